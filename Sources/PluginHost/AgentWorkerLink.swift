import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The master's end of one worker that a host's agent runs (see ``AgentConnection``): its frames
/// travel over the agent's one connection, tagged with the worker's number, and arrive here as
/// bytes, decoded as if read from the worker's own pipe.
///
/// Two locks, so that a slot thread writing to a slow connection never stops the connection's
/// reader from delivering to this link: ``inbox`` guards what came from the worker (frames,
/// stderr, its end), ``outbox`` what goes to it.
final class AgentWorkerLink: WorkerLink, @unchecked Sendable {
    /// The master's number for the worker on the connection.
    let number: UInt64
    private let connection: AgentConnection
    private let name: String
    private let stderrLine: @Sendable (String) -> Void
    private let tailLines: Int

    private let inbox = ConditionLock()
    // Guarded by `inbox`:
    private var spawnAnswer: Result<pid_t, WorkerSpawnError>?
    private var decoder = FrameDecoder()
    private var outputEnded = false
    private var lostReason: String?
    private var termination: WorkerTermination?
    private var stderrLines = StderrLineSplitter()
    private var tail = StderrTail()
    private var stderrEnded = false
    private var residentBytes: Int64?
    private var remotePID: pid_t = 0

    private let outbox = ConditionLock()
    // Guarded by `outbox`:
    private var outgoing: [UInt8] = []
    private var inputClosed = false
    private var waitAsked = false

    init(number: UInt64, connection: AgentConnection, launch: WorkerLaunch) {
        self.number = number
        self.connection = connection
        name = launch.name
        stderrLine = launch.stderrLine
        tailLines = launch.stderrTailLines
    }

    var pid: Int32 { inbox.withLock { remotePID } }

    /// Waits for the agent's answer to the spawn request, at most until `deadline`.
    func awaitSpawn(until deadline: UInt64) -> Result<pid_t, WorkerSpawnError> {
        inbox.withLock {
            while spawnAnswer == nil && lostReason == nil && monotonicNanoseconds() < deadline {
                inbox.wait(untilNanoseconds: deadline)
            }
            if let spawnAnswer { return spawnAnswer }
            return .failure(WorkerSpawnError(message: lostReason ?? "the agent did not start \(name) in time"))
        }
    }

    // MARK: Deliveries from the connection's reader

    func spawned(pid: pid_t) {
        inbox.withLock {
            remotePID = pid
            spawnAnswer = .success(pid)
            inbox.broadcast()
        }
    }

    func spawnFailed(_ reason: String) {
        inbox.withLock {
            spawnAnswer = .failure(WorkerSpawnError(message: reason))
            inbox.broadcast()
        }
    }

    func output(_ bytes: ArraySlice<UInt8>) {
        inbox.withLock {
            decoder.feed(bytes)
            inbox.broadcast()
        }
    }

    func outputEnd() {
        inbox.withLock {
            outputEnded = true
            inbox.broadcast()
        }
    }

    func stderr(_ bytes: ArraySlice<UInt8>) {
        var lines: [String] = []
        inbox.withLock {
            stderrLines.feed(bytes) { lines.append(String(decoding: $0, as: UTF8.self)) }
            for line in lines { tail.append(line, limit: tailLines) }
        }
        for line in lines { stderrLine("[\(name)] \(line)") }
    }

    func stderrEnd() {
        var last: String?
        inbox.withLock {
            stderrLines.finish { last = String(decoding: $0, as: UTF8.self) }
            if let last { tail.append(last, limit: tailLines) }
            stderrEnded = true
            inbox.broadcast()
        }
        if let last { stderrLine("[\(name)] \(last)") }
    }

    func exited(_ how: WorkerTermination) {
        inbox.withLock {
            termination = how
            inbox.broadcast()
        }
    }

    func memory(_ bytes: Int64) {
        inbox.withLock { residentBytes = bytes >= 0 ? bytes : nil }
    }

    /// The connection broke: everything waiting on the worker ends now.
    func lost(_ reason: String) {
        inbox.withLock {
            if lostReason == nil { lostReason = reason }
            inbox.broadcast()
        }
    }

    // MARK: WorkerLink

    func receive() throws(FrameReader.ReadError) -> ReceivedFrame? {
        inbox.lock()
        defer { inbox.unlock() }
        while true {
            do {
                if let frame = try decoder.nextReceived() {
                    // Its own copy: the connection's reader feeds the decoder meanwhile.
                    return ReceivedFrame(type: frame.type, id: frame.id, payload: Array(frame.payload)[...])
                }
                if outputEnded {
                    try decoder.finish()
                    return nil
                }
            } catch {
                throw .malformed(error)
            }
            if lostReason != nil { throw .io(SystemError(code: ECONNRESET)) }
            inbox.wait()
        }
    }

    func enqueue(type: FrameType, id: UInt64, payload: [UInt8]) {
        outbox.withLock {
            guard !inputClosed else { return }
            Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &outgoing)
            outgoing.append(contentsOf: payload)
        }
    }

    func flush() {
        outbox.withLock {
            guard !outgoing.isEmpty else { return }
            connection.sendInput(number, outgoing)
            outgoing.removeAll(keepingCapacity: outgoing.count < 1 << 20)
        }
    }

    func sendHeartbeat() {
        // The connection beats for all of its host's workers.
    }

    func sendBlob(_ blob: BlobStore.Blob?) {
        outbox.withLock {
            guard !inputClosed else { return }
            func send(_ type: FrameType, _ payload: [UInt8]) {
                var bytes: [UInt8] = []
                Frame.encodeHeader(type: type, id: 0, payloadLength: payload.count, into: &bytes)
                bytes.append(contentsOf: payload)
                connection.sendInput(number, bytes)
            }
            guard let blob else {
                send(.blobEnd, Array("the master has no such blob".utf8))
                return
            }
            let sent = FileChunks.read(blob.descriptor, limit: blob.size) { chunk in
                send(.blobData, Array(chunk))
                return connection.isUsable
            }
            send(.blobEnd, sent == blob.size ? [] : Array("the master cannot read the blob".utf8))
        }
    }

    func signal(_ number: Int32) {
        let ended = inbox.withLock { termination != nil || remotePID == 0 }
        if !ended { connection.send(.agentSignal, id: self.number, payload: Array(String(number).utf8)) }
    }

    func closeInput() {
        outbox.withLock {
            guard !inputClosed else { return }
            inputClosed = true
            outgoing = []
            connection.send(.agentCloseInput, id: number, payload: [])
        }
    }

    func residentMemoryBytes() -> Int64? {
        inbox.withLock { residentBytes }
    }

    func waitForExit() -> WorkerTermination {
        let ask = outbox.withLock {
            defer { waitAsked = true }
            return !waitAsked
        }
        if ask { connection.send(.agentWait, id: number, payload: []) }
        return inbox.withLock {
            while termination == nil && lostReason == nil { inbox.wait() }
            return termination ?? .connectionLost(lostReason!)
        }
    }

    func stderrTail(waitingUntil deadline: UInt64) -> [String] {
        inbox.withLock {
            while !stderrEnded && lostReason == nil && monotonicNanoseconds() < deadline {
                inbox.wait(untilNanoseconds: deadline)
            }
            return tail.lines
        }
    }

    func close() {
        closeInput()
        connection.forget(self)
    }
}
