import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The agent's fork server for one plugin file: a `plugin-worker --fork-server` it started (see
/// `ForkServer.swift` for the protocol), which forks the host's fresh workers of that plugin.
final class AgentForkServer {
    /// Where the server is in its life.
    enum State {
        /// Loading the plugin: workers asked for meanwhile wait.
        case starting
        case ready
        /// The plugin runs threads once loaded: workers are spawned one by one instead.
        case unusable(String)
        /// The plugin does not load on this host (this reason, naming the file): no worker of
        /// it can start here.
        case cannotLoad(String)
    }

    let pluginPath: String
    /// The agent's end of the server's socket (-1 once it ended).
    private(set) var socket: Int32
    let pid: pid_t
    var state = State.starting
    /// Workers waiting for the server to be ready.
    var waiting: [AgentWorker] = []
    /// Workers asked for, by request number, until the server answers.
    var forking: [UInt64: AgentWorker] = [:]
    private var nextSequence: UInt64 = 0

    private init(pluginPath: String, socket: Int32, pid: pid_t) {
        self.pluginPath = pluginPath
        self.socket = socket
        self.pid = pid
    }

    /// Starts `executable --fork-server` for `pluginPath`; nil (and the reason) when it cannot.
    static func start(executable: String, pluginPath: String) -> Result<AgentForkServer, SystemError> {
        var pair: [Int32] = [-1, -1]
        guard csupport_socketpair_seqpacket(&pair) == 0 else { return .failure(.current) }
        let spawned = ChildProcess.spawn(executable: executable,
                                         arguments: ["--fork-server", "--plugin", pluginPath, "--parent-pid", String(getpid())],
                                         descriptors: (pair[1], 2, 2))
        close(pair[1])
        switch spawned {
        case .success(let pid):
            return .success(AgentForkServer(pluginPath: pluginPath, socket: pair[0], pid: pid))
        case .failure(let error):
            close(pair[0])
            return .failure(error)
        }
    }

    /// Asks for `worker`, giving it the child ends of its pipes (closed here afterwards).
    func fork(_ worker: AgentWorker, childEnds: [Int32]) -> Bool {
        let sequence = nextSequence
        nextSequence += 1
        var message = AgentFields.encode(["F", String(sequence), worker.name, "", "", "", "3"])
        let sent = childEnds.withUnsafeBufferPointer { fds in
            csupport_send_with_fds(socket, &message, message.count, fds.baseAddress, Int32(fds.count))
        }
        for fd in childEnds { close(fd) }
        guard sent >= 0 else { return false }
        forking[sequence] = worker
        worker.parent = .forkServer(self)
        return true
    }

    /// Asks the server to reap `pid` once it ended (answered with `w PID ...`).
    func awaitEnd(of pid: pid_t) {
        var message = AgentFields.encode(["W", String(pid)])
        _ = csupport_send_with_fds(socket, &message, message.count, nil, 0)
    }

    /// Reads one message from the server: its fields, or nil when the server ended.
    func receive() -> [String]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var none: Int32 = -1
        var count: Int32 = 0
        let received = csupport_receive_with_fds(socket, &buffer, buffer.count, &none, 0, &count)
        guard received > 0 else { return nil }
        return AgentFields.decode(buffer[0..<received])
    }

    /// Closes the socket (the server then kills its workers and exits) and reaps the server.
    func end() {
        guard socket >= 0 else { return }
        close(socket)
        socket = -1
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
    }
}
