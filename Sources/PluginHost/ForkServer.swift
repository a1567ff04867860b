import CSupport
import PluginProtocol
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The master's side of one `plugin-worker --fork-server`: a process that loaded one plugin and
/// forks fresh workers of it on request (see the worker's `ForkServer.swift` for the protocol).
///
/// Any slot thread may ask for a worker (``fork(name:cgroupPath:descriptors:)``) or wait for
/// one's end (``waitForExit(_:)``); a reader thread takes the server's answers and wakes them.
/// When the server ends, its workers die with it (their parent-death signal) and every waiter
/// gets an answer at once.
final class ForkServer: @unchecked Sendable {
    /// Why a server is no longer usable.
    enum State {
        case starting, ready
        case failed(String)
    }

    let pluginPath: String
    /// The server's process id.
    let pid: pid_t
    private let socket: Int32
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var state = State.starting
    private var nextSequence: UInt64 = 0
    private var forks: [UInt64: Result<pid_t, WorkerSpawnError>] = [:]
    private var ends: [pid_t: WorkerTermination] = [:]

    private init(pluginPath: String, pid: pid_t, socket: Int32) {
        self.pluginPath = pluginPath
        self.pid = pid
        self.socket = socket
    }

    /// Starts `executable --fork-server` for `pluginPath` in `cgroup` and waits until it has
    /// loaded the plugin (at most `timeout` seconds). Throws a one-line reason.
    static func start(executable: String, pluginPath: String, cgroup: WorkerCgroup?,
                      timeout: Double) throws(WorkerSpawnError) -> ForkServer {
        var pair: [Int32] = [-1, -1]
        guard csupport_socketpair_seqpacket(&pair) == 0 else {
            throw WorkerSpawnError(message: "fork server: socketpair: \(Errno(rawValue: errno))")
        }
        let pid: pid_t
        do {
            pid = try WorkerProcess.spawnChild(
                executable: executable,
                arguments: ["--fork-server", "--plugin", pluginPath, "--parent-pid", String(getpid())],
                descriptors: (pair[1], 2, 2), cgroup: cgroup)
        } catch {
            close(pair[0]); close(pair[1])
            cgroup?.release()
            throw WorkerSpawnError(message: "\(executable): \(error)")
        }
        close(pair[1])
        cgroup?.add(pid)
        let server = ForkServer(pluginPath: pluginPath, pid: pid, socket: pair[0])
        startThread { server.readAnswers(cgroup: cgroup) }
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
            throw WorkerSpawnError(message: "\(executable) --fork-server did not load \(pluginPath) within \(timeout) s")
        case .failed(let reason):
            server.stop()
            throw WorkerSpawnError(message: reason)
        }
    }

    deinit {
        close(socket)  // (Here, not in the reader: stop() may still shut the socket down until now.)
    }

    /// True until the server failed or ended.
    var isUsable: Bool {
        lock.withLock {
            if case .failed = state { return false }
            return true
        }
    }

    /// Asks for a fresh worker named `name`, joining `cgroupPath` (nil: none), with `descriptors`
    /// as its standard input, output and error (the caller closes its copies). Returns its pid.
    /// On `cpu` (nil: any), as a spawned worker on the slot thread's pinned core.
    func fork(name: String, cgroupPath: String?, cpu: Int32?, descriptors: [Int32]) throws(WorkerSpawnError) -> pid_t {
        let sequence: UInt64 = lock.withLock {
            defer { nextSequence += 1 }
            return nextSequence
        }
        var message = Array("F\0\(sequence)\0\(name)\0\(cgroupPath ?? "")\0\(cpu.map(String.init) ?? "")".utf8)
        let sent = descriptors.withUnsafeBufferPointer { fds in
            csupport_send_with_fds(socket, &message, message.count, fds.baseAddress, Int32(fds.count))
        }
        if sent < 0 {
            let error = Errno(rawValue: errno)
            lock.withLock { if case .ready = state { state = .failed("fork server: \(error)") } }
            throw WorkerSpawnError(message: "fork server for \(pluginPath): \(error)")
        }
        let answer: Result<pid_t, WorkerSpawnError> = lock.withLock {
            while forks[sequence] == nil {
                if case .failed(let reason) = state { return .failure(WorkerSpawnError(message: reason)) }
                lock.wait()
            }
            return forks.removeValue(forKey: sequence)!
        }
        return try answer.get()
    }

    /// Waits until worker `pid` has ended and returns how. The server reaps it only now, so its
    /// pid is not reused while the master may still signal it. A worker of a server that ended
    /// died with it (SIGKILL).
    func waitForExit(_ worker: pid_t) -> WorkerTermination {
        var message = Array("W\0\(worker)".utf8)
        _ = csupport_send_with_fds(socket, &message, message.count, nil, 0)
        return lock.withLock {
            while ends[worker] == nil {
                if case .failed = state { return .signalled(SIGKILL) }
                lock.wait()
            }
            return ends.removeValue(forKey: worker)!
        }
    }

    /// Ends the server: it sees the end of its socket, kills its workers and exits; the reader
    /// thread reaps it.
    func stop() {
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    /// The reader thread: the server's answers, until its socket ends.
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
                    state = .failed(fields[1])
                case ("f", 3):
                    if let sequence = UInt64(fields[1]), let child = pid_t(fields[2]) { forks[sequence] = .success(child) }
                case ("e", 3):
                    if let sequence = UInt64(fields[1]) { forks[sequence] = .failure(WorkerSpawnError(message: fields[2])) }
                case ("w", 4):
                    if let child = pid_t(fields[1]), let value = Int32(fields[3]) {
                        ends[child] = fields[2] == "x" ? .exited(value) : fields[2] == "s" ? .signalled(value) : .unknown
                    }
                default:
                    break
                }
                lock.broadcast()
            }
        }
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
        cgroup?.release()
        lock.withLock {
            if case .failed = state {} else {
                var value: Int32 = 0
                let how = csupport_decode_wait_status(status, &value) == 2 ? "was killed by signal \(value) (\(signalName(value)))"
                    : "exited with status \(value)"
                state = .failed("the fork server for \(pluginPath) (pid \(pid)) \(how)")
            }
            lock.broadcast()
        }
    }
}
