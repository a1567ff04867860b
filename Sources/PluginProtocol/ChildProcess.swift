import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// Starting a child process the way every part of the host does: its own process group, three
/// given descriptors as its standard streams and nothing else of the parent's open.
public enum ChildProcess {
    /// Spawns `executable` with `arguments` (argv[1...]) in its own process group, with
    /// `descriptors` as its standard input, output and error and no other descriptor of this
    /// process, and this process's environment minus the Swift backtracer and any variable
    /// named in `removing`, plus `adding` (`NAME=value` entries). Returns its pid (the caller
    /// closes its copies of `descriptors`), or the errno of the failure.
    public static func spawn(executable: String, arguments: [String], descriptors: (Int32, Int32, Int32),
                             adding: [String] = [], removing: [String] = []) -> Result<pid_t, SystemError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, descriptors.0, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptors.1, 1)
        posix_spawn_file_actions_adddup2(&actions, descriptors.2, 2)
        // Nothing else of the parent's leaks into the child (files opened without O_CLOEXEC by
        // libraries, for instance): a stray pipe end would hide another worker's EOF.
        csupport_spawn_actions_closefrom(&actions, 3)
        let argv = [executable] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        // The Swift runtime's crash backtracer would make every worker crash slow and verbose.
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("SWIFT_BACKTRACE=enable=no")]
        environment += adding.map { strdup($0) }
        // Compared as C prefixes (`NAME=`): this runs for every spawned worker, one-shot ones too.
        let dropped = (["SWIFT_BACKTRACE"] + removing).map { Array(($0 + "=").utf8CString.dropLast()) }
        var entry = environ
        while let variable = entry.pointee {
            let isDropped = dropped.contains { prefix in prefix.withUnsafeBufferPointer { strncmp(variable, $0.baseAddress!, $0.count) == 0 } }
            if !isDropped { environment.append(strdup(variable)) }
            entry += 1
        }
        environment.append(nil)
        defer { for pointer in environment { free(pointer) } }
        var pid: pid_t = 0
        var rc = csupport_spawn(&pid, executable, &actions, &cArguments, &environment)
        // ETXTBSY is transient: the executable (e.g. a wrapper script written a moment ago) is
        // still open for writing in a child another thread forked before it closed the file.
        var attempts = 1
        while rc == ETXTBSY && attempts < 20 {
            usleep(5_000)
            attempts += 1
            rc = csupport_spawn(&pid, executable, &actions, &cArguments, &environment)
        }
        guard rc == 0 else { return .failure(SystemError(code: rc)) }
        return .success(pid)
    }
}
