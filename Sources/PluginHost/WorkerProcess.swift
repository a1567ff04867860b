import CSupport
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
    static func spawn(executable: String, arguments: [String], cgroup: WorkerCgroup? = nil) throws(Errno) -> WorkerProcess {
        do {
            return try spawnProcess(executable: executable, arguments: arguments, cgroup: cgroup)
        } catch {
            cgroup?.release()
            throw error
        }
    }

    private static func spawnProcess(executable: String, arguments: [String], cgroup: WorkerCgroup?) throws(Errno) -> WorkerProcess {
        let pipes = try WorkerPipes.make()
        let pid: pid_t
        do {
            pid = try spawnChild(executable: executable, arguments: arguments, descriptors: pipes.childEnds, cgroup: cgroup)
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
    /// environment minus the Swift backtracer plus `cgroup`'s path for plugin-worker to join.
    /// Returns its pid; the caller closes its copies of `descriptors`.
    static func spawnChild(executable: String, arguments: [String], descriptors: (Int32, Int32, Int32),
                           cgroup: WorkerCgroup?) throws(Errno) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, descriptors.0, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptors.1, 1)
        posix_spawn_file_actions_adddup2(&actions, descriptors.2, 2)
        // Nothing else of the master's leaks into the worker (files opened without O_CLOEXEC by
        // libraries, for instance): a stray pipe end would hide another worker's EOF.
        csupport_spawn_actions_closefrom(&actions, 3)
        let argv = [executable] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        // The Swift runtime's crash backtracer would make every worker crash slow and verbose.
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("SWIFT_BACKTRACE=enable=no")]
        // plugin-worker joins its cgroup itself before it loads the plugin (see WorkerCgroup).
        if let cgroup { environment.append(strdup("\(WorkerCgroup.environmentVariable)=\(cgroup.path)")) }
        var entry = environ
        while let variable = entry.pointee {
            if strncmp(variable, "SWIFT_BACKTRACE=", 16) != 0 && strncmp(variable, "PLUGIN_HOST_CGROUP=", 19) != 0 {
                environment.append(strdup(variable))
            }
            entry += 1
        }
        environment.append(nil)
        defer { for pointer in environment { free(pointer) } }
        var rc = csupport_spawn(&pid, executable, &actions, &cArguments, &environment)
        // ETXTBSY is transient: the executable (e.g. a wrapper script written a moment ago) is
        // still open for writing in a child another thread forked before it closed the file.
        var attempts = 1
        while rc == ETXTBSY && attempts < 20 {
            usleep(5_000)
            attempts += 1
            rc = csupport_spawn(&pid, executable, &actions, &cArguments, &environment)
        }
        guard rc == 0 else { throw Errno(rawValue: rc) }
        return pid
    }

    /// Sends `signal` to the worker's process group (the worker and any child it forked); a
    /// SIGKILL also goes to every process of its cgroup (children that left the group too).
    /// Only call before the worker is reaped: afterwards its pid may belong to someone else.
    func send(signal: Int32) {
        kill(-pid, signal)
        if signal == SIGKILL { cgroup?.killAll() }
    }

    /// Waits for the process to exit and returns how it ended. Call once.
    func waitForExit() -> WorkerTermination {
        var status: Int32 = 0
        // Whatever the worker left behind goes with it (its cgroup is emptied and removed).
        defer { cgroup?.release() }
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
