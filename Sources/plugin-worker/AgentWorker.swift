import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One worker the agent started for the master: the agent's ends of its three pipes, the bytes
/// waiting to go to its standard input, and how it is reaped.
final class AgentWorker {
    /// How the agent learns the worker's end.
    enum Parent {
        /// Forked by this fork server, which reaps it when asked (`W PID`).
        case forkServer(AgentForkServer)
        /// Spawned by the agent itself: its pidfd, polled once the master asked for its end.
        case agent(pidfd: Int32)
    }

    /// The master's number for the worker (the id of its frames on the connection).
    let id: UInt64
    let name: String
    /// The plugin's path on the master, as messages name it.
    let plugin: String
    /// Its process id, once started (0 before).
    var pid: pid_t = 0
    /// For a worker a fork server forked: a handle on it, opened when the server sent its pid
    /// (the server reaps only when asked, so the pid was still the worker's then). Once the
    /// server dies, init may reap the worker at any time, before the agent learns the server's
    /// end: the handle tells whether `pid` may no longer be the worker's.
    var forkedHandle: ProcessHandle?
    var parent: Parent?
    /// The write end of its standard input (-1 once closed).
    var input: Int32
    /// The read ends of its standard output and error (-1 once they ended).
    var output: Int32
    var errors: Int32
    /// Bytes for its standard input not written yet (from `pendingStart` on).
    private(set) var pending: [UInt8] = []
    private var pendingStart = 0
    /// The master asked for its input to be closed once `pending` is written.
    var closeRequested = false
    /// The master asked for its end (``FrameType/agentWait``): it is reaped once it ends and
    /// reported; the master signals it no more.
    var awaited = false
    /// Its pid went to the master (``FrameType/agentSpawned``).
    var spawnReported = false
    /// It wrote something (or ended its output) already.
    var sawOutput = false
    /// The master gave up on it before it started: it is killed as soon as it has a pid.
    var abandoned = false
    /// How it ended, once reaped; reported when the master asked.
    var termination: (how: String, value: Int32)?
    /// Whether its resident memory goes to the master with its output.
    let reportsMemory: Bool
    /// The child's ends of its pipes (stdin, stdout, stderr) until it is started.
    var childEnds: [Int32] = []

    init(id: UInt64, name: String, plugin: String, input: Int32, output: Int32, errors: Int32, reportsMemory: Bool) {
        self.id = id
        self.name = name
        self.plugin = plugin
        self.input = input
        self.output = output
        self.errors = errors
        self.reportsMemory = reportsMemory
    }

    /// Hands over the child's ends of its pipes (the caller closes them).
    func takeChildEnds() -> [Int32] {
        defer { childEnds = [] }
        return childEnds
    }

    /// True while bytes wait for its standard input.
    var hasPendingInput: Bool { pendingStart < pending.count }

    /// Queues `bytes` for its standard input and writes what the pipe takes now.
    func send(_ bytes: ArraySlice<UInt8>) {
        guard input >= 0 else { return }  // Closed: the worker is ending.
        pending.append(contentsOf: bytes)
        writePending()
    }

    /// Writes queued input without blocking; closes the input once all is written and a close
    /// was asked for, or when the worker can no longer read it.
    func writePending() {
        while input >= 0 && hasPendingInput {
            let written = pending.withUnsafeBytes { bytes in
                Glibc.write(input, bytes.baseAddress! + pendingStart, pending.count - pendingStart)
            }
            if written > 0 {
                pendingStart += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                // The worker is gone (EPIPE): what it did not read is dropped, as a pipe would.
                pending = []
                pendingStart = 0
                closeInput()
                return
            }
        }
        if !hasPendingInput {
            pending.removeAll(keepingCapacity: pending.count < 1 << 20)
            pendingStart = 0
            if closeRequested { closeInput() }
        } else if pendingStart > 1 << 16 && pendingStart > pending.count / 2 {
            // A steady stream never drains: drop what was written, not only once it is all gone.
            pending.removeSubrange(0..<pendingStart)
            pendingStart = 0
        }
    }

    /// Closes its standard input now.
    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// True while `pid` is surely the worker's: it started, has not been reaped, and may not be
    /// being reaped (once the master asked for its end, its fork server may reap it at any time;
    /// a worker forked by a server that died is reaped by init as soon as it ends, which its
    /// ``forkedHandle`` tells).
    var pidIsItsOwn: Bool {
        guard pid > 0, termination == nil, !awaited else { return false }
        return forkedHandle?.isRunning ?? true
    }

    /// Signals its process group while its pid is its own (see ``pidIsItsOwn``; the master
    /// signals it no more once it asked for its end anyway).
    func signal(_ number: Int32) {
        guard pidIsItsOwn else { return }
        kill(-pid, number)
    }

    /// Its resident memory in bytes (-1: unknown), read by its pid only while that is its own:
    /// checked again after the read, so a reading of a process that took the pid is never given.
    var residentBytes: Int64 {
        guard pidIsItsOwn else { return -1 }
        let bytes = csupport_rss_bytes(pid)
        return pidIsItsOwn ? Int64(bytes) : -1
    }

    /// True once nothing more will come from it and its end was reported: the agent forgets it.
    var isFinished: Bool { output < 0 && errors < 0 && termination != nil && awaited }
}
