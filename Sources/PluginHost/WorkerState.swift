import PluginProtocol
import Synchronization

/// One worker as the scheduler sees it: its place in the pool, its status and its task.
///
/// Every stored property is guarded by the scheduler's lock, with two exceptions:
/// ``lastHeardNanoseconds`` is an atomic, written by whichever thread moves bytes; ``link`` is set
/// once, by ``attach(_:)`` under the lock before any frame can be queued for the worker, and only
/// read afterwards (``flush()`` reads it outside the lock). The link (frames, signals, the
/// worker's end) is a ``WorkerLink`` with its own lock for writes.
final class WorkerState: @unchecked Sendable {
    /// Where a worker is in its life.
    enum Phase {
        /// Spawned, handshake not read yet.
        case starting
        /// Said hello; waits for a task.
        case idle
        /// Runs a task.
        case busy
        /// Its stream ended: being reaped. Nothing is sent to it and it is never signalled again.
        case exiting
        /// Reaped and out of its slot.
        case gone
    }

    /// Why the host itself ended a worker (nil: it died on its own).
    enum ExitIntent {
        /// The plugin answered `end`, a recycling limit was hit, or the slot was needed elsewhere.
        case retired(String)
        /// Its task ran past the time limit.
        case expired
        /// Its task was cancelled (the task already ended `cancelled`).
        case taskCancelled
        /// The worker itself was cancelled by name.
        case workerCancelled
        /// It sent something that was not a valid frame or answer.
        case marshalError(String)
        /// The run is over or was interrupted.
        case shutdown
        /// It went silent (no heartbeat): its host or the link to it is down.
        case lost(String)
        /// Its resident memory went over `maxWorkerRSSBytes` during a task (the message says by
        /// how much): handled like a death, so the task is retried by the usual rules.
        case overMemory(String)
        /// The machine ran short of memory (under half of `--memfree`) and its task was the
        /// youngest running: the task goes back to the queue, not counted as a loss.
        case memoryPressure(String)

        /// True when the worker was lost rather than ended on purpose: handled like a death.
        var isLoss: Bool {
            switch self {
            case .lost, .overMemory: return true
            default: return false
            }
        }
    }

    let name: String
    let kind: KindState
    let slot: Int
    /// The machine it runs on.
    let machine: WorkerMachine
    /// Heartbeat interval in nanoseconds, for a worker whose link needs them (launched ones).
    let heartbeatNanoseconds: UInt64?
    /// When the master last read anything from the worker (monotonic ns; heartbeat workers only).
    private let lastHeard = Atomic<UInt64>(0)
    /// The link to the worker, once its transport started it.
    private(set) var link: (any WorkerLink)?
    /// The process id shown in events (0 before the worker is started).
    var pid: Int32 { link?.pid ?? 0 }
    var status: EncodedWorkerStatus = .fresh
    var phase: Phase = .starting
    var running: TaskRecord?
    /// When ``running`` was sent (monotonic nanoseconds): the youngest task is killed first
    /// under memory pressure.
    var runningSince: UInt64 = 0
    var jobs = 0
    /// Set once the handshake was accepted.
    var everStarted = false
    /// Set by the watchdog when the worker did not say hello in time.
    var handshakeTimedOut = false
    /// Broadcasts held back while the worker was busy, sent before its next request.
    var pendingBroadcasts: [[UInt8]] = []
    /// When the process was spawned (monotonic nanoseconds).
    var spawnedAt: UInt64 = 0
    var exitIntent: ExitIntent?

    init(name: String, kind: KindState, slot: Int, machine: WorkerMachine, heartbeat: Double?) {
        self.name = name
        self.kind = kind
        self.slot = slot
        self.machine = machine
        self.heartbeatNanoseconds = heartbeat.map { UInt64($0 * 1e9) }
    }

    // MARK: - What the worker can do now

    /// Idle and not being ended: it can take a task.
    var canTakeWork: Bool { phase == .idle && exitIntent == nil }

    /// Said hello and not being ended (idle or busy): it serves its kind.
    var isServing: Bool { (phase == .idle || phase == .busy) && exitIntent == nil }

    /// Running a task and not being ended.
    var isWorking: Bool { phase == .busy && exitIntent == nil }

    /// Being killed by the host: its slot stops reading from it and reaps it. (A worker ended by
    /// a clean shutdown is not: its input was closed, and it runs `worker_fini` and exits by
    /// itself, which its slot sees as the end of its stream.)
    var isBeingKilled: Bool {
        switch exitIntent {
        case nil, .shutdown?: return false
        default: return true
        }
    }

    /// Busy or still starting: work of its kind is under way.
    var isOccupied: Bool { phase == .busy || phase == .starting }

    /// Said hello and not reaped yet: frames queued for it are delivered or dropped by its link.
    var isReachable: Bool { phase != .starting && phase != .gone }

    // MARK: - Link

    /// When the master last heard from this worker (monotonic nanoseconds). Any thread.
    var lastHeardNanoseconds: UInt64 { lastHeard.load(ordering: .relaxed) }

    /// Records that bytes moved between master and worker now. Any thread.
    func heard() { lastHeard.store(monotonicNanoseconds(), ordering: .relaxed) }

    /// Attaches the started worker's link (scheduler lock held). Once.
    func attach(_ link: any WorkerLink) {
        precondition(self.link == nil, "a worker's link is attached once")
        self.link = link
    }

    /// Signals the worker unless it is being reaped or gone (its pid could be reused).
    func signal(_ number: Int32) {
        guard phase != .exiting && phase != .gone else { return }
        link?.signal(number)
    }

    /// Queues a frame (scheduler lock held); ``flush()`` writes it after unlocking.
    func enqueue(type: FrameType, id: UInt64, payload: [UInt8]) {
        link?.enqueue(type: type, id: id, payload: payload)
    }

    /// Writes every queued frame, in order.
    func flush() {
        link?.flush()
    }

    /// Sends one heartbeat unless that could block.
    func sendHeartbeat() {
        link?.sendHeartbeat()
    }

    /// Closes the request direction: an idle worker then sees end of input, calls the plugin's
    /// `worker_fini` and exits by itself.
    func closeInput() {
        link?.closeInput()
    }
}
