import CSupport
import PluginProtocol
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A worker process and the master's ends of its three pipes: spawned by the master, or forked by
/// a fork server (which then reaps it and says how it ended).
///
/// The child gets the request pipe as stdin, the response pipe as stdout and the stderr pipe as
/// stderr. Every master-side end is close-on-exec, so a later worker never inherits an earlier
/// worker's pipe (which would hide that worker's EOF from the master).
final class WorkerProcess: @unchecked Sendable {
    /// The child's process id.
    let pid: pid_t
    /// Requests go here (the child's stdin).
    let input: FileDescriptor
    /// Responses come from here (the child's stdout).
    let output: FileDescriptor
    /// The child's stderr.
    let errors: FileDescriptor
    /// The cgroup the child and everything it starts live in (nil where cgroups are not made).
    private let cgroup: WorkerCgroup?
    /// Waits for the end of a worker another process forked (nil: the master's own child).
    private let reaper: (@Sendable (pid_t) -> WorkerTermination)?

    private init(pid: pid_t, input: FileDescriptor, output: FileDescriptor, errors: FileDescriptor, cgroup: WorkerCgroup?,
                 reaper: (@Sendable (pid_t) -> WorkerTermination)? = nil) {
        self.pid = pid
        self.input = input
        self.output = output
        self.errors = errors
        self.cgroup = cgroup
        self.reaper = reaper
    }

    /// A worker a fork server forked: `reaper` waits for its end (the fork server reaps it).
    static func forked(pid: pid_t, input: Int32, output: Int32, errors: Int32, cgroup: WorkerCgroup?,
                       reaper: @escaping @Sendable (pid_t) -> WorkerTermination) -> WorkerProcess {
        WorkerProcess(pid: pid, input: FileDescriptor(rawValue: input), output: FileDescriptor(rawValue: output),
                      errors: FileDescriptor(rawValue: errors), cgroup: cgroup, reaper: reaper)
    }

    /// Spawns `executable` with `arguments` (argv[1...]) in its own process group and, if given,
    /// in `cgroup` (which it owns from then on). Throws the errno of the failure.
    /// `addressSpaceLimit` (bytes) is handed to `plugin-worker` to set on itself (see
    /// ``WorkerAddressSpaceLimit``). `environment` entries (`NAME=VALUE`) are added to the
    /// child's environment.
    static func spawn(executable: String, arguments: [String], cgroup: WorkerCgroup? = nil,
                      addressSpaceLimit: UInt64? = nil, environment: [String] = []) throws(Errno) -> WorkerProcess {
        do {
            return try spawnProcess(executable: executable, arguments: arguments, cgroup: cgroup,
                                    addressSpaceLimit: addressSpaceLimit, environment: environment)
        } catch {
            cgroup?.release()
            throw error
        }
    }

    private static func spawnProcess(executable: String, arguments: [String], cgroup: WorkerCgroup?,
                                     addressSpaceLimit: UInt64?, environment: [String]) throws(Errno) -> WorkerProcess {
        let pipes = try WorkerPipes.make()
        let pid: pid_t
        do {
            pid = try spawnChild(executable: executable, arguments: arguments, descriptors: pipes.childEnds, cgroup: cgroup,
                             addressSpaceLimit: addressSpaceLimit, environment: environment)
        } catch {
            pipes.closeAll()
            throw error
        }
        pipes.closeChildEnds()
        cgroup?.add(pid)  // (A launcher, which does not join by itself, is moved here.)
        return WorkerProcess(pid: pid, input: FileDescriptor(rawValue: pipes.input),
                             output: FileDescriptor(rawValue: pipes.output),
                             errors: FileDescriptor(rawValue: pipes.errors), cgroup: cgroup)
    }

    /// Spawns `executable` with `arguments` in its own process group, with `descriptors` as its
    /// standard input, output and error and nothing else of the master's open, and the master's
    /// environment minus the Swift backtracer plus `cgroup`'s path for plugin-worker to join and
    /// the address-space limit it sets on itself, plus `environment`. Returns its pid; the
    /// caller closes its copies of `descriptors`.
    static func spawnChild(executable: String, arguments: [String], descriptors: (Int32, Int32, Int32),
                           cgroup: WorkerCgroup?, addressSpaceLimit: UInt64? = nil, environment: [String] = []) throws(Errno) -> pid_t {
        // plugin-worker joins its cgroup itself before it loads the plugin (see WorkerCgroup),
        // and sets the address-space limit on itself (see WorkerAddressSpaceLimit).
        var adding = environment + (cgroup.map { ["\(WorkerCgroup.environmentVariable)=\($0.path)"] } ?? [])
        if let addressSpaceLimit { adding.append("\(WorkerAddressSpaceLimit.environmentVariable)=\(addressSpaceLimit)") }
        switch ChildProcess.spawn(executable: executable, arguments: arguments, descriptors: descriptors, adding: adding,
                                  removing: [WorkerCgroup.environmentVariable, WorkerAddressSpaceLimit.environmentVariable,
                                             AgentConnectBack.secretVariable]) {
        case .success(let pid): return pid
        case .failure(let error): throw Errno(rawValue: error.code)
        }
    }

    /// Sends `signal` to the worker's process group (the worker and any child it forked). What
    /// left the group (a child in a new session) is killed through the cgroup once the worker is
    /// reaped (``waitForExit()``): not here, on the slot thread, where it cost every retired
    /// one-shot worker a cgroup write. Only call before the worker is reaped: afterwards its pid
    /// may belong to someone else.
    func send(signal: Int32) {
        kill(-pid, signal)
    }

    /// Set by ``waitForExit()``: the kernel killed the worker (or something it started) for
    /// going over its cgroup's `memory.max`.
    private(set) var killedOutOfMemory = false

    /// Waits for the process to exit and returns how it ended. Call once.
    func waitForExit() -> WorkerTermination {
        var status: Int32 = 0
        // Whatever the worker left behind goes with it (its cgroup is emptied and removed).
        defer {
            killedOutOfMemory = cgroup?.killedOutOfMemory ?? false
            cgroup?.release()
        }
        if let reaper { return reaper(pid) }
        guard retryingOnInterrupt({ waitpid(pid, &status, 0) }) >= 0 else { return .unknown }
        var value: Int32 = 0
        switch csupport_decode_wait_status(status, &value) {
        case 1: return .exited(value)
        case 2: return .signalled(value)
        default: return .unknown
        }
    }

    /// Closes the request pipe: the worker reads end of file and exits by itself. Call once.
    func closeInput() {
        try? input.close()
    }

    /// Closes the response pipe. Call once, after the reader is done. The stderr pipe belongs
    /// to its pump thread, which closes it at end of stream: closing it from here could let the
    /// pump's next read land on a reused descriptor number.
    func closeOutput() {
        try? output.close()
    }
}
