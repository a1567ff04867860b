import CSupport
import PluginProtocol
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The master's side of one `plugin-worker --fork-server`: a process that loaded one plugin and
/// forks fresh workers of it on request (see the worker's `ForkServer.swift` for the protocol).
///
/// Any slot thread may ask for a worker (``fork(name:cgroupPath:cpu:heartbeat:descriptors:)``) or
/// wait for one's end (``waitForExit(_:)``); the server's own thread spawns it, takes its answers
/// and wakes them, and reaps it. (It is spawned by that thread, not by a slot thread, because a
/// parent-death signal fires when the thread that spawned the process ends: a slot thread may
/// end while other slots' workers still need the server.) When the server ends, its workers die
/// with it (their parent-death signal) and every waiter gets an answer at once.
final class ForkServer: @unchecked Sendable {
    /// Why a server is no longer usable.
    enum State {
        case starting, ready
        case failed(String)
        /// The server loaded the plugin and cannot fork it (it runs threads once loaded), or
        /// could not load it: its workers are spawned instead (as the worker agent does).
        case refused(String)

        /// Why the server is unusable; nil while it starts or serves.
        var failure: String? {
            switch self {
            case .starting, .ready: nil
            case .failed(let reason), .refused(let reason): reason
            }
        }
    }

    let pluginPath: String
    private let socket: Int32
    private let lock = ConditionLock()
    // Guarded by `lock`:
    /// The server's process id, once spawned.
    private var pid: pid_t = 0
    private var state = State.starting
    private var nextSequence: UInt64 = 0
    private var forks: [UInt64: Result<pid_t, WorkerSpawnError>] = [:]
    private var ends: [pid_t: WorkerTermination] = [:]

    private init(pluginPath: String, socket: Int32) {
        self.pluginPath = pluginPath
        self.socket = socket
    }

    /// Why a server could not start.
    enum StartFailure: Error {
        /// It did not start or load the plugin in time: the reason, one line.
        case failed(WorkerSpawnError)
        /// It refused the plugin (see ``State/refused(_:)``): spawn the plugin's workers instead.
        case refused(String)
    }

    /// Starts `executable --fork-server` for `pluginPath` in `cgroup` and waits until it has
    /// loaded the plugin (at most `timeout` seconds). Throws a one-line reason.
    /// Its workers take `addressSpaceLimit` (bytes; nil: none) after the fork.
    static func start(executable: String, pluginPath: String, cgroup: WorkerCgroup?, addressSpaceLimit: UInt64?,
                      timeout: Double) throws(StartFailure) -> ForkServer {
        var pair: [Int32] = [-1, -1]
        guard csupport_socketpair_seqpacket(&pair) == 0 else {
            throw .failed(WorkerSpawnError(message: "fork server: socketpair: \(Errno(rawValue: errno))"))
        }
        let server = ForkServer(pluginPath: pluginPath, socket: pair[0])
        let childSocket = pair[1]
        startThread { server.run(executable: executable, childSocket: childSocket, cgroup: cgroup,
                                   addressSpaceLimit: addressSpaceLimit) }
        let deadline = monotonicNanoseconds() &+ nanoseconds(fromSeconds: timeout)
        let state: State = server.lock.withLock {
            while case .starting = server.state, monotonicNanoseconds() < deadline {
                server.lock.wait(untilNanoseconds: deadline)
            }
            return server.state
        }
        switch state {
        case .ready:
            return server
        case .starting:
            server.stop()
            throw .failed(WorkerSpawnError(message: "\(executable) --fork-server did not load \(pluginPath) within \(timeout) s"))
        case .failed(let reason):
            server.stop()
            throw .failed(WorkerSpawnError(message: reason))
        case .refused(let reason):
            server.stop()
            throw .refused(reason)
        }
    }

    deinit {
        close(socket)  // (Here, not in the reader: stop() may still shut the socket down until now.)
    }

    /// True until the server failed or ended.
    var isUsable: Bool {
        lock.withLock { state.failure == nil }
    }

    /// Asks for a fresh worker named `name`, joining `cgroupPath` (nil: none), with `descriptors`
    /// as its standard input, output and error (the caller closes its copies). Returns its pid.
    /// On `cpu` (nil: any), as a spawned worker on the slot thread's pinned core; with heartbeats
    /// every `heartbeat` seconds (`heartbeatMisses` missed ones end it) when given.
    func fork(name: String, cgroupPath: String?, cpu: Int32?, heartbeat: Double?, heartbeatMisses: Int,
              descriptors: [Int32]) throws(WorkerSpawnError) -> pid_t {
        let sequence = try request(descriptors: descriptors) {
            ["F", String($0), name, cgroupPath ?? "", cpu.map(String.init) ?? "", heartbeat.map { String($0) } ?? "",
             String(heartbeatMisses)]
        }
        return try forked(sequence)
    }

    /// Asks for a spare worker (see ``SpareWorkerStart``) joining `cgroupPath` on `cpu`, with
    /// `descriptors` as its standard streams (the caller closes its copies), without waiting for
    /// the answer: returns the request's number for ``forked(_:)``.
    func forkSpare(cgroupPath: String?, cpu: Int32?, descriptors: [Int32]) throws(WorkerSpawnError) -> UInt64 {
        try request(descriptors: descriptors) { ["S", String($0), cgroupPath ?? "", cpu.map(String.init) ?? ""] }
    }

    /// The pid of the worker request `sequence` forked, once the server answered.
    func forked(_ sequence: UInt64) throws(WorkerSpawnError) -> pid_t {
        let answer: Result<pid_t, WorkerSpawnError> = lock.withLock {
            while forks[sequence] == nil {
                if let reason = state.failure { return .failure(WorkerSpawnError(message: reason)) }
                lock.wait()
            }
            return forks.removeValue(forKey: sequence)!
        }
        return try answer.get()
    }

    /// Sends the request `fields(sequence)` with `descriptors`; returns its number.
    private func request(descriptors: [Int32], _ fields: (UInt64) -> [String]) throws(WorkerSpawnError) -> UInt64 {
        let sequence: UInt64 = lock.withLock {
            defer { nextSequence += 1 }
            return nextSequence
        }
        var message = Array(fields(sequence).joined(separator: "\0").utf8)
        guard message.count <= Self.largestMessage else {
            throw WorkerSpawnError(message: "fork server: a worker name and cgroup path of \(message.count) bytes are too long")
        }
        let sent = descriptors.withUnsafeBufferPointer { fds in
            csupport_send_with_fds(socket, &message, message.count, fds.baseAddress, Int32(fds.count))
        }
        if sent < 0 {
            // (Not marked failed here: only the end of its socket says the server is gone.)
            throw WorkerSpawnError(message: "fork server for \(pluginPath): \(Errno(rawValue: errno))")
        }
        return sequence
    }

    /// Waits until worker `pid` has ended and returns how. The server reaps it only now, so its
    /// pid is not reused while the master may still signal it. A worker of a server that ended
    /// died with it (SIGKILL).
    func waitForExit(_ worker: pid_t) -> WorkerTermination {
        var message = Array("W\0\(worker)".utf8)
        _ = csupport_send_with_fds(socket, &message, message.count, nil, 0)
        return lock.withLock {
            while ends[worker] == nil {
                if state.failure != nil { return .signalled(SIGKILL) }
                lock.wait()
            }
            return ends.removeValue(forKey: worker)!
        }
    }

    /// The largest message the server reads (its receive buffer holds 4,096 bytes).
    static let largestMessage = 4_000

    /// Ends the server: it sees the end of its socket, kills its workers and exits; its thread
    /// kills it if it does not (one stuck loading its plugin never reads), then reaps it.
    func stop() {
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    /// The server's thread: spawns it, takes its answers until its socket ends, reaps it.
    private func run(executable: String, childSocket: Int32, cgroup: WorkerCgroup?, addressSpaceLimit: UInt64?) {
        let spawned: pid_t
        do {
            spawned = try WorkerProcess.spawnChild(
                executable: executable,
                arguments: ["--fork-server", "--plugin", pluginPath, "--parent-pid", String(getpid())],
                descriptors: (childSocket, 2, 2), cgroup: cgroup, addressSpaceLimit: addressSpaceLimit,
                // Every symbol bound once, in the server: its workers make no lazy binding of
                // their own (each first call through the PLT cost every fresh worker a lookup).
                environment: ["LD_BIND_NOW=1"])
        } catch {
            close(childSocket)
            cgroup?.release()
            lock.withLock {
                state = .failed("\(executable): \(error)")
                lock.broadcast()
            }
            return
        }
        close(childSocket)
        cgroup?.add(spawned)
        lock.withLock { pid = spawned }
        readAnswers(cgroup: cgroup)
    }

    /// The server's answers, until its socket ends; then it is killed (if it lives) and reaped.
    private func readAnswers(cgroup: WorkerCgroup?) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var unused: Int32 = 0
        var none: Int32 = -1
        while true {
            let count = csupport_receive_with_fds(socket, &buffer, buffer.count, &none, 0, &unused)
            if count <= 0 { break }
            let fields = buffer[0..<count].split(separator: 0, omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            lock.withLock {
                switch (fields.first, fields.count) {
                case ("r", 1):
                    state = .ready
                case ("x", 2):
                    state = .refused(fields[1])
                case ("f", 3):
                    if let sequence = UInt64(fields[1]), let child = pid_t(fields[2]) { forks[sequence] = .success(child) }
                case ("e", 3):
                    if let sequence = UInt64(fields[1]) { forks[sequence] = .failure(WorkerSpawnError(message: fields[2])) }
                case ("w", 4):
                    if let child = pid_t(fields[1]), let value = Int32(fields[3]) {
                        ends[child] = WorkerTermination(report: fields[2], value: value)
                    }
                default:
                    break
                }
                lock.broadcast()
            }
        }
        // Our own child, not reaped yet: its pid cannot be anyone else's. Every worker of this run
        // was reaped before the run stops its servers, so killing one here loses nothing.
        let pid = lock.withLock { self.pid }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
        cgroup?.release()
        lock.withLock {
            if state.failure == nil {
                var value: Int32 = 0
                let how = csupport_decode_wait_status(status, &value) == 2 ? "was killed by signal \(value) (\(signalName(value)))"
                    : "exited with status \(value)"
                state = .failed("the fork server for \(pluginPath) (pid \(pid)) \(how)")
            }
            lock.broadcast()
        }
    }
}
