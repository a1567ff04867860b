import PluginProtocol
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One worker process as the scheduler sees it.
final class WorkerState: @unchecked Sendable {
    /// Where a worker is in its life.
    enum Phase {
        /// Spawned, handshake not read yet.
        case starting
        case idle, busy
        /// Its pipe ended: being reaped. Nothing is sent to it and it is never signalled again.
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
    let host: HostState
    /// Heartbeat interval in nanoseconds, for a worker whose link needs them (launched ones).
    let heartbeatNanoseconds: UInt64?
    /// When the master last read anything from the worker (monotonic ns; heartbeat workers only).
    private let lastHeard = Atomic<UInt64>(0)
    var process: WorkerProcess?
    var pid: Int32 = 0
    var status: WorkerStatus = .fresh
    var phase: Phase = .starting
    var running: TaskRecord?
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
    /// Serialises writes to the worker from the threads that dispatch to it.
    let io = ConditionLock()
    private var writer: FrameWriter?
    /// The last lines the worker wrote to stderr (guarded by `io`).
    var stderrTail: [String] = []
    var stderrClosed = false

    init(name: String, kind: KindState, slot: Int, host: HostState, heartbeat: Double?) {
        self.name = name
        self.kind = kind
        self.slot = slot
        self.host = host
        self.heartbeatNanoseconds = heartbeat.map { UInt64($0 * 1e9) }
    }

    /// When the master last read bytes from this worker (monotonic nanoseconds).
    var lastHeardNanoseconds: UInt64 { lastHeard.load(ordering: .relaxed) }

    /// Records that bytes arrived from the worker now. Any thread.
    func heard() { lastHeard.store(monotonicNanoseconds(), ordering: .relaxed) }

    /// Sends one heartbeat unless that could block: another thread is writing (which the
    /// worker hears anyway) or the pipe has no room.
    func sendHeartbeat() {
        guard io.tryLock() else { return }
        defer { io.unlock() }
        guard let queued = writer?.isEmpty, queued, let process else { return }  // Queued frames: their flush is near.
        let pollOut: Int16 = Int16(POLLOUT)
        var probe = pollfd(fd: process.input.rawValue, events: pollOut, revents: 0)
        let ready: Int32 = poll(&probe, 1, 0)
        guard ready == 1, (probe.revents & pollOut) != 0 else { return }
        try? writer!.write(type: .heartbeat, id: 0, payload: [])
    }

    /// Signals the worker's process group unless it is being reaped or gone (its pid could be
    /// reused). Call with the scheduler lock held.
    func signal(_ number: Int32) {
        guard phase != .exiting && phase != .gone else { return }
        process?.send(signal: number)
    }

    /// Queues a frame (encoded at once into the writer's buffer, in decision order); call with
    /// the scheduler lock held, then ``flush()`` after unlocking. Dropped once the input is closed.
    func enqueue(type: FrameType, id: UInt64, payload: [UInt8]) {
        io.withLock { writer?.queue(type: type, id: id, payload: payload) }
    }

    /// Writes every queued frame, in order. Write failures are left to the reader, which sees
    /// the worker's end of file.
    func flush() {
        io.withLock { try? writer?.flush() }
    }

    /// Sends a blob the worker asked for, in chunks, then its end (or why it cannot be sent).
    /// Holds the write lock throughout: nothing else is sent to a busy worker meanwhile.
    func sendBlob(_ blob: BlobStore.Blob?) {
        io.withLock {
            guard writer != nil else { return }
            guard let blob else {
                try? writer!.write(type: .blobEnd, id: 0, payload: Array("the master has no such blob".utf8))
                return
            }
            var writeFailed = false
            let sent = FileChunks.read(blob.descriptor, limit: blob.size) { chunk in
                // (With heartbeats, the writer counts each piece the worker takes as news from it.)
                guard (try? writer!.write(type: .blobData, id: 0, payload: chunk)) != nil else {
                    writeFailed = true
                    return false
                }
                return true
            }
            if writeFailed { return }  // The worker is gone; its reader sees the end.
            guard sent == blob.size else {
                try? writer!.write(type: .blobEnd, id: 0, payload: Array("the master cannot read the blob".utf8))
                return
            }
            try? writer!.write(type: .blobEnd, id: 0, payload: [])
        }
    }

    /// Attaches the spawned process.
    func attach(_ process: WorkerProcess) {
        io.withLock {
            self.process = process
            self.pid = process.pid
            self.writer = FrameWriter(descriptor: Descriptor(process.input.rawValue))
            if heartbeatNanoseconds != nil {
                // What the worker takes from the link is news from it too: while this side
                // writes a large frame over a slow link, the worker's heartbeats wait unread.
                writer!.onProgress = { [unowned self] in self.heard() }
            }
        }
    }

    /// Closes the request pipe (later frames are dropped): an idle worker then sees end of
    /// file, calls the plugin's `worker_fini` and exits by itself.
    func closeInput() {
        io.withLock {
            guard writer != nil else { return }
            writer = nil
            process?.closeInput()
        }
    }

    /// Closes the master's ends of the pipes; later sends are dropped.
    func closePipes() {
        closeInput()
        io.withLock { process?.closeOutput() }
    }

    /// Records one stderr line, keeping the last `limit`.
    func appendStderr(_ line: String, limit: Int) {
        if line.allSatisfy({ $0 == " " || $0 == "\t" }) { return }
        io.withLock {
            stderrTail.append(line)
            if stderrTail.count > limit { stderrTail.removeFirst(stderrTail.count - limit) }
        }
    }

    /// Waits until the stderr pipe closed or `deadline` passed, then returns the tail.
    func stderrTail(waitingUntil deadline: UInt64) -> [String] {
        io.withLock {
            while !stderrClosed && monotonicNanoseconds() < deadline {
                io.wait(untilNanoseconds: deadline)
            }
            return stderrTail
        }
    }

    func markStderrClosed() {
        io.withLock {
            stderrClosed = true
            io.broadcast()
        }
    }
}
