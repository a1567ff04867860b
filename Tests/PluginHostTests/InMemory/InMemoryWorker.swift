// One worker of the in-memory transport: a WorkerLink whose "process" is a script.
import DequeModule
@testable import PluginHost
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A worker that lives in the test process. Requests the master flushes go through the
/// transport's script at once, on the flushing thread, and the script's steps become what the
/// master reads next: frames, a death, bytes that are no frame, or silence. Signals and the end
/// of input end it as they would end a plugin-worker process: SIGKILL at once; SIGTERM at once
/// when idle (status 143), while busy only by the steps its script left for a stop request
/// (`should_stop`), so a busy worker that ignores it waits for the grace period's SIGKILL. The
/// worker does what it is told the moment it is told, and every wait ends on an event.
///
/// Not modelled (covered by the end-to-end tests with processes): heartbeats (the link never
/// reports activity, so a run with heartbeats would find its workers silent), blobs, and the wait
/// for a dying worker's last stderr lines.
final class InMemoryWorker: WorkerLink, @unchecked Sendable {
    /// What a worker does next, as its script says.
    enum Step: Sendable {
        /// Sends a frame (a response, feedback or error) for the request being handled.
        case send(FrameType, String)
        /// Writes bytes that are not a frame.
        case garbage
        /// Ends the way a process ends, after these lines on stderr.
        case die(WorkerTermination, stderr: [String])
        /// Says nothing more until it is killed.
        case hang
        /// Its resident memory grows by this many MiB.
        case grow(megabytes: Int64)
        /// Says nothing more until asked to stop (SIGTERM while busy), then does these steps.
        case untilStopped([Step])
    }

    /// Something the master did to this worker, in order.
    enum Contact: Equatable, Sendable {
        case request(id: UInt64, text: String)
        case broadcast(String)
        case signal(Int32)
        case inputClosed
    }

    private enum Outbound {
        case frame(FrameType, UInt64, [UInt8])
        case garbage
    }

    let pid: Int32
    let launch: WorkerLaunch
    /// The transport that started it (for state shared by the run's workers).
    weak var transport: InMemoryTransport?
    private let script: @Sendable (InMemoryWorker, _ id: UInt64, _ request: String) -> [Step]
    private let lock = ConditionLock()
    /// Serialises flushes, as a pipe's write lock does: frames reach the script in queue order.
    private let flushLock = ConditionLock()
    // Guarded by `lock`:
    private var outbound = Deque<Outbound>()
    private var pending: [Frame] = []
    private var inputClosed = false
    private var termination: WorkerTermination?
    private var stderrLines: [String] = []
    private var contactLog: [Contact] = []
    private var residentBytes: Int64 = 8 << 20
    private var reaped = false
    private var closed = false
    private var lastBroadcastText: String?
    /// Between a request and its answer (or its death).
    private var busy = false
    /// What the script does when asked to stop while busy.
    private var onStop: (steps: [Step], requestID: UInt64)?
    /// The request it works on (the last one it got).
    private var currentRequest: UInt64?

    init(pid: Int32, launch: WorkerLaunch, hello: Frame?,
         script: @escaping @Sendable (InMemoryWorker, UInt64, String) -> [Step]) {
        self.pid = pid
        self.launch = launch
        self.script = script
        if let hello { outbound.append(.frame(hello.type, hello.id, hello.payload)) }
    }

    // MARK: - What the test sees

    /// The worker's name.
    var name: String { launch.name }
    /// Everything the master did to it so far.
    var contacts: [Contact] { lock.withLock { contactLog } }
    /// The requests it got, as text.
    var requests: [String] {
        contacts.compactMap { if case .request(_, let text) = $0 { text } else { nil } }
    }
    /// True when it was killed by SIGKILL (its slot kills it once more before reaping it: harmless).
    var wasKilled: Bool { !signals.isEmpty && signals.allSatisfy { $0 == SIGKILL } && ended == .signalled(SIGKILL) }
    /// The signals it got.
    var signals: [Int32] { contacts.compactMap { if case .signal(let number) = $0 { number } else { nil } } }
    /// How it ended (nil while it lives).
    var ended: WorkerTermination? { lock.withLock { termination } }
    /// True once the master waited for its end and released it.
    var isReleased: Bool { lock.withLock { reaped && closed } }
    /// The last broadcast it got, if any.
    var lastBroadcast: String? { lock.withLock { lastBroadcastText } }

    /// Answers the request it is working on with a response frame, from outside: a worker whose
    /// script hung finishes when the test says so. Does nothing if it is not busy or has ended.
    func answer(_ text: String) {
        lock.withLock {
            guard termination == nil, busy, let id = currentRequest else { return }
            outbound.append(.frame(.response, id, Array(text.utf8)))
            busy = false
            lock.broadcast()
        }
    }

    /// Ends the worker from outside, as `kill -9` from another process would.
    func kill(_ termination: WorkerTermination = .signalled(SIGKILL), stderr lines: [String] = []) {
        lock.withLock {
            stderrLines += lines
            end(termination)
        }
    }

    // MARK: - WorkerLink

    func receive() throws(FrameReader.ReadError) -> ReceivedFrame? {
        let next: Outbound? = lock.withLock {
            while outbound.isEmpty && termination == nil {
                // Its input is closed and it has nothing left to say: it runs worker_fini and exits.
                if inputClosed { end(.exited(0)) } else { lock.wait() }
            }
            return outbound.popFirst()
        }
        switch next {
        case .frame(let type, let id, let payload)?:
            return ReceivedFrame(type: type, id: id, payload: payload[...])
        case .garbage?:
            throw .malformed(.badHeader)
        case nil:
            return nil
        }
    }

    func enqueue(type: FrameType, id: UInt64, payload: [UInt8]) {
        lock.withLock {
            if !inputClosed { pending.append(Frame(type: type, id: id, payload: payload)) }
        }
    }

    func flush() {
        flushLock.withLock {
            let frames: [Frame] = lock.withLock {
                defer { pending.removeAll() }
                return termination == nil ? pending : []  // Writes to a dead worker fail.
            }
            for frame in frames { handle(frame) }
        }
    }

    func sendHeartbeat() {}

    func sendBlob(_ blob: BlobStore.Blob?) {}

    func signal(_ number: Int32) {
        lock.withLock {
            precondition(!reaped, "signalled after it was reaped")
            contactLog.append(.signal(number))
            if number == SIGKILL { end(.signalled(SIGKILL)) }
            if number == SIGTERM && !busy { end(.exited(143)) }  // plugin-worker's idle SIGTERM exit
        }
        // Busy: `should_stop` turns true; a script may answer it (a busy worker ignoring it waits
        // for the SIGKILL that ends the grace period).
        if number == SIGTERM, let stop = lock.withLock({ () -> (steps: [Step], requestID: UInt64)? in
            defer { onStop = nil }
            return busy && termination == nil ? onStop : nil
        }) {
            for step in stop.steps where !apply(step, requestID: stop.requestID) { break }
        }
    }

    func closeInput() {
        lock.withLock {
            guard !inputClosed else { return }
            inputClosed = true
            pending.removeAll()
            contactLog.append(.inputClosed)
            // It exits by itself once it has read the end of its input: as the master sees it,
            // when the master next reads from it. A master that kills it first wins.
            lock.broadcast()
        }
    }

    func residentMemoryBytes() -> Int64? { lock.withLock { residentBytes } }

    func waitForExit() -> WorkerTermination {
        lock.withLock {
            while termination == nil { lock.wait() }
            precondition(!reaped, "reaped twice")
            reaped = true
            return termination!
        }
    }

    func stderrTail(waitingUntil deadline: UInt64) -> [String] {
        lock.withLock { Array(stderrLines.suffix(launch.stderrTailLines)) }
    }

    func close() {
        lock.withLock { closed = true }
    }

    // MARK: - Running the script

    private func handle(_ frame: Frame) {
        let text = String(decoding: frame.payload, as: UTF8.self)
        switch frame.type {
        case .request:
            lock.withLock {
                contactLog.append(.request(id: frame.id, text: text))
                currentRequest = frame.id
                busy = true
            }
            for step in script(self, frame.id, text) {
                if !apply(step, requestID: frame.id) { break }
            }
        case .broadcast:
            lock.withLock {
                contactLog.append(.broadcast(text))
                lastBroadcastText = text
            }
        default:
            break
        }
    }

    /// Carries out one step; false when the worker does nothing more for this request.
    private func apply(_ step: Step, requestID: UInt64) -> Bool {
        switch step {
        case .send(let type, let text):
            lock.withLock {
                guard termination == nil else { return }
                outbound.append(.frame(type, requestID, Array(text.utf8)))
                if type != .feedback { busy = false }
                lock.broadcast()
            }
            return true
        case .garbage:
            lock.withLock {
                outbound.append(.garbage)
                lock.broadcast()
            }
            return false
        case .die(let how, let lines):
            for line in lines { launch.stderrLine("[\(launch.name)] \(line)") }
            lock.withLock {
                stderrLines += lines
                end(how)
            }
            return false
        case .hang:
            return false
        case .untilStopped(let steps):
            lock.withLock { onStop = (steps, requestID) }
            return false
        case .grow(let megabytes):
            lock.withLock { residentBytes += megabytes << 20 }
            return true
        }
    }

    /// Ends the worker once (lock held).
    private func end(_ how: WorkerTermination) {
        guard termination == nil else { return }
        termination = how
        lock.broadcast()
    }
}
