import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The run's shared state and every scheduling decision, guarded by one lock.
///
/// Worker threads (see ``WorkerSlot``) call in with the lock held; every method named
/// `…Locked` expects that. Master-side plugin callbacks are made here, so they are serialised.
/// Writes to workers are never done under the lock: methods return ``Outbox`` items that the
/// caller sends after unlocking.
final class Scheduler: @unchecked Sendable {
    let lock = ConditionLock()
    let configuration: HostConfiguration
    private(set) var kinds: [KindState] = []
    /// Workers by slot; nil where the slot holds no process.
    var slots: [WorkerState?]
    var nextTaskID: UInt64 = 1
    let startTime = monotonicNanoseconds()
    let watchdog: Watchdog
    /// Warns when a master callback holds the host (and so this lock) too long.
    let callMonitor = MasterCallMonitor()
    /// The threads that reap released workers (see ``ReaperThreads``).
    let reapers = ReaperThreads()
    /// The machines workers run on; `slotHosts[slot]` indexes this for each slot.
    let hosts: [WorkerMachine]
    let slotHosts: [Int]
    /// Files the kinds published for their workers.
    let blobs = BlobStore()
    /// How workers are started and reached.
    let transport: any WorkerTransport
    /// The run's journal (`--journal`, `--resume`), if any.
    var journal: RunJournal?

    // Run-wide state.
    var draining = false
    var interrupted = false
    /// Set when the run stopped starting tasks early (a drain or a halt; see Scheduler+Stopping).
    var stop: RunStop?
    /// Tasks cancelled before the stop: a halted run's exit status counts only these.
    var cancelledBeforeStop = 0
    /// An ended task met the halt policy; the next dispatch halts (see ``applyHaltIfDueLocked()``).
    var haltDue = false
    /// `configuration.halt`, read once: it is checked as every task ends.
    let halt: HaltPolicy?
    var liveSlotThreads = 0
    /// Slots whose thread was started. Threads start only when a worker is needed and no
    /// waiting thread can spawn it, so a large `-j` with little work costs few threads.
    var slotHasThread: [Bool]
    /// Slots whose thread waits in ``nextWorkerLocked(slot:)`` for something to spawn.
    var waitingSlots = Set<Int>()
    /// Slot threads started during the run.
    var slotThreadsStarted = 0
    /// A slot thread could not be started (the process limit): warned once.
    var warnedThreadFailure = false
    /// Retired workers that left their slot and are being reaped by a reaper thread.
    var reapsPending = 0
    /// While positive, the run does not end when its queues drain (the embedding program will
    /// push more tasks).
    var inputHolds = 0
    private(set) var started = false
    /// Cores not yet claimed by a slot's thread; nil when slots are not pinned.
    var cores: CoreAssignment?
    var counts = OutcomeCounts()
    var results: [TaskResult] = []
    var setupErrors: [String] = []
    var workersStarted = 0
    /// GNU make's jobserver, when make started the host (see `Scheduler+Jobserver`).
    var jobserver: MakeJobserver? { configuration.jobserver }
    /// Tokens taken from make, each covering one live worker beyond the first.
    var jobserverTokens: [UInt8] = []
    /// The memory available was below `--memfree` at the last reading: no worker starts.
    var memoryLow = false
    /// Said once per run: no worker starts until memory is available.
    var warnedMemoryLow = false
    /// Slot threads waiting for a token to start a worker.
    var jobserverWaiters = 0
    /// Workers that died out of memory (see ``OutOfMemorySignature``).
    var workersOutOfMemory = 0
    var report: RunReport?
    var completionHandlers: [@Sendable (RunReport) -> Void] = []
    private(set) var observers: [(categories: HostEventCategories, handler: @Sendable (HostEvent) -> Void)] = []
    /// The union of what the observers want: events outside it are never built.
    private(set) var observed: HostEventCategories = []
    /// Whether `taskQueued` events go out late, each before its task's first start or its end:
    /// every observer of them asked for ``HostEventCategories/taskQueuedLate``.
    private(set) var announcesQueuedLate = false
    /// Plugin warnings waiting to be written, outside the lock, by the next delivered outbox.
    var pendingWarnings: [String] = []
    /// Where worker stderr lines go (already prefixed with the worker's name).
    var stderrHandler: @Sendable (String) -> Void = { line in printToStandardError(line) }

    /// A scheduler for `configuration` whose workers `transport` starts (processes by default).
    init(configuration: HostConfiguration, transport: (any WorkerTransport)? = nil) {
        self.configuration = configuration
        self.halt = configuration.halt
        self.transport = transport ?? Scheduler.makeTransport(configuration)
        self.slots = Array(repeating: nil, count: configuration.jobs)
        self.slotHasThread = Array(repeating: false, count: configuration.jobs)
        self.watchdog = Watchdog()
        if configuration.hosts.isEmpty {
            hosts = [WorkerMachine(name: "", launcher: configuration.launcher)]
            slotHosts = Array(repeating: 0, count: configuration.jobs)
        } else {
            hosts = configuration.hosts.map { WorkerMachine(name: $0.name, launcher: $0.isLocal ? nil : configuration.launcher) }
            let assignment = WorkerHost.slotAssignment(configuration.hosts, jobs: configuration.jobs)
            // A budget larger than the hosts' slots leaves the extra slots to the first host.
            slotHosts = (0..<configuration.jobs).map { $0 < assignment.count ? assignment[$0] : assignment.first ?? 0 }
        }
        blobs.hashesOnPublish = hosts.contains { $0.isRemote }
        // Called from plugin callbacks, with the lock held.
        blobs.isRemoteWorker = { [unowned self] name in
            slots.first { $0?.name == name }?.map { $0.machine.isRemote }
        }
    }

    /// The host a slot's workers run on.
    func host(ofSlot slot: Int) -> WorkerMachine { hosts[slotHosts[slot]] }

    // MARK: - Set-up

    /// Adds a kind; `policy` is the operator's explicit choice, if any (see ``KindState/policy``).
    func addKind(_ plugin: MasterPlugin, policy: WorkerPolicy? = nil) throws(HostError) {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { throw HostError.usage("task kinds must be added before the run starts") }
        try HostConfiguration.checkJobs(configuration.jobs)
        // Two kinds from one plugin get distinct names (chaos, chaos-2), so worker names and
        // per-kind counts stay unambiguous.
        var name = plugin.library.name
        var suffix = 2
        while kinds.contains(where: { $0.name == name }) {
            name = "\(plugin.library.name)-\(suffix)"
            suffix += 1
        }
        let kind = KindState(name: name, plugin: plugin)
        kind.policy = policy
        kind.journalIndex = UInt16(kinds.count)
        plugin.callMonitor = callMonitor
        kinds.append(kind)
        absorbSideEffectsLocked(kind, parent: nil, origin: nil)
    }

    /// True once ``start()`` ran.
    var isStarted: Bool { lock.withLock { started } }

    func addObserver(_ categories: HostEventCategories, _ observer: @escaping @Sendable (HostEvent) -> Void) {
        lock.withLock {
            observers.append((categories, observer))
            observed.formUnion(categories)
            announcesQueuedLate = observers.allSatisfy { !$0.categories.contains(.taskProgress) || $0.categories.contains(.taskQueuedLate) }
                && wants(.taskProgress)
        }
    }

    func onCompletion(_ handler: @escaping @Sendable (RunReport) -> Void) {
        let finished: RunReport? = lock.withLock {
            if let report { return report }
            completionHandlers.append(handler)
            return nil
        }
        if let finished { handler(finished) }
    }

    /// Starts the watchdog and the slot threads the first dispatch needs (at least one: the last
    /// slot thread to leave finishes the run); more start as workers are needed.
    func start() {
        // A write to a dead worker must fail with EPIPE, not kill the master.
        signal(SIGPIPE, SIG_IGN)
        // Before the first spawn: the floor holds from the start.
        let memory = configuration.memfreeBytes != nil ? configuration.availableMemory() : nil
        let outbox: Outbox = lock.withLock {
            precondition(!started, "a run starts once")
            started = true
            // Before the first dispatch: a slot thread may be inside a master callback before
            // this method returns.
            callMonitor.start(report: stderrHandler)
            transport.runStarted()
            if let memory, let floor = configuration.memfreeBytes { memoryLow = memory < floor }
            if configuration.pinsSlotsToCores {
                cores = CoreAssignment(slots: slots.count, allowedCores: SystemInfo.allowedCores)
            }
            // Tasks queued by master_open, before observers could all be in place.
            if wants(.taskProgress) && !announcesQueuedLate {
                var initial: [TaskRecord] = []
                for kind in kinds { _ = kind.queue.contains { initial.append($0); return false } }
                for task in initial.sorted(by: { $0.id < $1.id }) { emitQueuedLocked(task) }
            }
            startJobserverThreadLocked()
            let outbox = dispatchLocked()
            if liveSlotThreads == 0 && !startSlotThreadLocked(0) {
                preconditionFailure("the host cannot run without a slot thread")
            }
            return outbox
        }
        watchdog.start(scheduler: self)
        if configuration.memfreeBytes != nil { checkAvailableMemory() }
        if configuration.maxWorkerRSSBytes != nil {
            watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.memoryCheckInterval),
                              .memoryCheck)
        }
        outbox.deliver()
    }

    // MARK: - Events
}

extension Scheduler {
    /// The transport `configuration` asks for: this machine's workers spawned or forked from a
    /// fork server; launched hosts' workers through one agent per host, or one launch each.
    static func makeTransport(_ configuration: HostConfiguration) -> any WorkerTransport {
        let direct: any WorkerTransport = configuration.usesForkServer ? ForkServerTransport(configuration: configuration)
            : ProcessTransport(configuration: configuration)
        guard configuration.usesAgents, configuration.launcher?.startsAgents == true else { return direct }
        return AgentTransport(configuration: configuration, direct: direct)
    }
}
