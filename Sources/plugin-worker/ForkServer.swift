import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `plugin-worker --fork-server --plugin PATH --parent-pid PID`: loads the plugin once, then
/// forks each fresh worker the master asks for, so a fresh worker costs a `fork` instead of an
/// `exec`, a dynamic link, a runtime start and a `dlopen`. It stays single-threaded and never runs
/// a job itself, so each worker starts from the same clean memory.
///
/// Its standard input is a `SOCK_SEQPACKET` socket to the master carrying one message per
/// datagram, fields separated by NUL bytes (no name or path can hold one):
///
/// - master → server `F SEQ NAME CGROUP CPU HEARTBEAT MISSES` with three descriptors (the worker's
///   stdin, stdout, stderr): fork a worker named NAME that joins CGROUP (empty for none), runs on
///   CPU (empty for any) and exchanges heartbeats every HEARTBEAT seconds (empty for none; MISSES
///   missed ones end it). Answer `f SEQ PID`, or `e SEQ REASON` when the fork failed.
/// - master → server `S SEQ CGROUP CPU` with three descriptors: fork a *spare*, a worker ready
///   ahead of need (in CGROUP, on CPU, its protocol descriptors set up, its hello written) that
///   runs no plugin code until the master writes its name and heartbeats to its stdin
///   (``SpareWorkerStart``), or exits at end of file there. Answered as `F`. It is still a fresh
///   worker: forked from this server, which never ran a job, and it never ran one before.
/// - master → server `W PID`: the master is done with worker PID; reap it once it ended and answer
///   `w PID x STATUS` (exited) or `w PID s SIGNAL` (killed), or `w PID u 0` for a pid it does not
///   know. A worker is never reaped before the master asks, so its pid cannot be reused while the
///   master may still signal it.
/// - server → master, first: `r` once the plugin is loaded, or `x REASON` (then it exits 2).
///
/// End of file on the socket (the master closed it or died) kills every worker and ends the
/// server; each worker dies with the server (a parent-death signal).
func forkServerMain(_ arguments: [String]) -> Never {
    signal(SIGPIPE, SIG_IGN)
    // The master bound every symbol at load time for the workers' sake (LD_BIND_NOW): what the
    // workers start does not inherit that.
    unsetenv("LD_BIND_NOW")
    // Into its own cgroup, and the variable naming it does not reach the workers (each joins its own).
    joinCgroup()
    // For its workers, not for itself: each sets it after the fork.
    let addressSpaceLimit = WorkerAddressSpaceLimit.take()
    let control: Int32 = 0
    var pluginPath: String?
    var parent: Int32?
    var index = 0
    while index + 1 < arguments.count {
        switch arguments[index] {
        case "--plugin": pluginPath = arguments[index + 1]
        case "--parent-pid": parent = Int32(arguments[index + 1])
        default: break
        }
        index += 2
    }
    if let parent {
        _ = csupport_set_parent_death_signal(SIGKILL)
        if getppid() != parent { exit(2) }
    }
    guard let pluginPath else {
        ForkServerChannel.send(["x", "plugin-worker: --fork-server needs --plugin PATH"], on: control)
        exit(2)
    }
    let plugin: PluginLibrary
    do {
        plugin = try PluginLibrary(path: pluginPath)
    } catch {
        ForkServerChannel.send(["x", error.description], on: control)
        exit(2)
    }
    // A fork copies only the calling thread: a plugin that started threads while loading would
    // leave its workers with locks held by threads they do not have.
    let threads = threadCount()
    if threads != 1 {
        ForkServerChannel.send(["x", "plugin '\(plugin.name)' runs \(threads) threads once loaded: "
                                + "its workers cannot be forked (run without --fork-server)"], on: control)
        exit(2)
    }
    warmUpWorkerPaths(plugin)
    ForkServerChannel.send(["r"], on: control)
    var server = ForkServerState(plugin: plugin, control: control, addressSpaceLimit: addressSpaceLimit)
    server.run()
}

/// The fork server's loop and the workers it forked.
struct ForkServerState {
    let plugin: PluginLibrary
    let control: Int32
    /// The address-space limit each worker sets after the fork (nil: none).
    let addressSpaceLimit: UInt64?
    /// The one CPU this server runs on, if it is pinned (it is started by a pinned slot's thread):
    /// a worker asked for on that CPU is already there.
    private let ownCPU: Int32?
    /// Workers not yet reaped: their pidfds, and whether the master asked for their end.
    private var children: [Int32: (pidfd: Int32, awaited: Bool)] = [:]
    /// Each (reused) worker cgroup's directory and `cgroup.procs`, open, by path: a worker is
    /// cloned straight into its cgroup, or joins it with one write (see `csupport_fork_worker`).
    private var cgroupFiles: [String: (procs: Int32, directory: Int32)] = [:]

    init(plugin: PluginLibrary, control: Int32, addressSpaceLimit: UInt64?) {
        self.plugin = plugin
        self.control = control
        self.addressSpaceLimit = addressSpaceLimit
        var cpus: [Int32] = [0, 0]
        ownCPU = csupport_allowed_cpus(&cpus, 2) == 1 ? cpus[0] : nil
    }

    mutating func run() -> Never {
        while true {
            var watched = [pollfd(fd: control, events: Int16(POLLIN), revents: 0)]
            let awaited = children.filter { $0.value.awaited }.map { (pid: $0.key, pidfd: $0.value.pidfd) }
            for child in awaited { watched.append(pollfd(fd: child.pidfd, events: Int16(POLLIN), revents: 0)) }
            let ready = retryingOnInterrupt { poll(&watched, nfds_t(watched.count), -1) }
            if ready < 0 { shutDown() }
            for (offset, child) in awaited.enumerated() where watched[offset + 1].revents != 0 {
                reap(child.pid)
            }
            if watched[0].revents != 0 { readCommand() }
        }
    }

    /// Reads and carries out one command from the master.
    private mutating func readCommand() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var fds = [Int32](repeating: -1, count: 3)
        var count: Int32 = 0
        let received = csupport_receive_with_fds(control, &buffer, buffer.count, &fds, 3, &count)
        if received <= 0 { shutDown() }
        let fields = buffer[0..<received].split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        switch fields.first {
        case "F" where fields.count == 7 && count == 3:
            let start = SpareWorkerStart(name: fields[2], heartbeat: Double(fields[5]), heartbeatMisses: Int(fields[6]) ?? 3)
            fork(sequence: fields[1], descriptors: fds, cgroup: fields[3], cpu: fields[4], start: start)
        case "S" where fields.count == 4 && count == 3:
            fork(sequence: fields[1], descriptors: fds, cgroup: fields[2], cpu: fields[3], start: nil)
        case "W" where fields.count == 2:
            guard let pid = Int32(fields[1]), let child = children[pid] else {
                ForkServerChannel.send(["w", fields[1], "u", "0"], on: control)  // Never ours, or reaped.
                return
            }
            children[pid] = (child.pidfd, true)
            if child.pidfd < 0 { reap(pid) }  // No pidfd (old kernel): wait for it now.
        default:
            for fd in fds[0..<Int(count)] { close(fd) }
            printError("plugin-worker: fork server: unexpected command from the master")
        }
    }

    /// Forks a worker on `descriptors` (closed here afterwards) that joins `cgroup` and runs on
    /// `cpu` (empty: any), named by `start`, or a spare that waits for its start message when nil;
    /// answers `f SEQ PID` or `e SEQ REASON`.
    private mutating func fork(sequence: String, descriptors fds: [Int32], cgroup: String, cpu: String,
                               start: SpareWorkerStart?) {
        let (procs, group) = cgroupFiles(of: cgroup)
        let pid = csupport_fork_worker(fds, getpid(), procs, group)
        if pid == 0 {
            if let cpu = Int32(cpu), cpu != ownCPU { _ = csupport_pin_thread_to_cpu(cpu) }
            // (In its cgroup already, cloned there or joined through the open cgroup.procs.)
            forkedWorkerMain(plugin, cgroup: procs >= 0 ? "" : cgroup, addressSpaceLimit: addressSpaceLimit, start: start)
        }
        let error = errno
        for fd in fds { close(fd) }
        guard pid > 0 else {
            ForkServerChannel.send(["e", sequence, "fork: \(SystemError(code: error))"], on: control)
            return
        }
        let pidfd = csupport_pidfd_open(pid)
        children[pid] = (pidfd, false)
        ForkServerChannel.send(["f", sequence, String(pid)], on: control)
    }

    /// The open `cgroup.procs` and directory of `cgroup` (opened now if they are not yet), -1 for
    /// none or what cannot be opened. At most 64 are kept: a run's cgroups that were not reused
    /// are closed.
    private mutating func cgroupFiles(of cgroup: String) -> (procs: Int32, directory: Int32) {
        if cgroup.isEmpty { return (-1, -1) }
        if let open = cgroupFiles[cgroup] { return open }
        if cgroupFiles.count >= 64 {
            for files in cgroupFiles.values {
                if files.procs >= 0 { close(files.procs) }
                if files.directory >= 0 { close(files.directory) }
            }
            cgroupFiles.removeAll()
        }
        let files = (procs: open(cgroup + "/cgroup.procs", O_WRONLY | O_CLOEXEC),
                     directory: open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        if files.procs >= 0 || files.directory >= 0 { cgroupFiles[cgroup] = files }
        return files
    }

    /// Reaps worker `pid`, which has ended, and tells the master how.
    private mutating func reap(_ pid: Int32) {
        var status: Int32 = 0
        let rc = retryingOnInterrupt { waitpid(pid, &status, 0) }
        if let child = children.removeValue(forKey: pid), child.pidfd >= 0 { close(child.pidfd) }
        var value: Int32 = 0
        let how: [String]
        switch rc < 0 ? 0 : csupport_decode_wait_status(status, &value) {
        case 1: how = ["x", String(value)]
        case 2: how = ["s", String(value)]
        default: how = ["u", "0"]
        }
        ForkServerChannel.send(["w", String(pid)] + how, on: control)
    }

    /// The master is gone or done: every worker goes, then the server.
    private func shutDown() -> Never {
        for pid in children.keys { kill(-pid, SIGKILL) }
        exit(0)
    }
}

/// Sends one message of the fork server's protocol.
enum ForkServerChannel {
    /// Sends `fields`, separated by NUL bytes.
    static func send(_ fields: [String], on socket: Int32) {
        var bytes = Array(fields.joined(separator: "\0").utf8)
        _ = csupport_send_with_fds(socket, &bytes, bytes.count, nil, 0)
    }
}

/// How many threads this process runs (entries of /proc/self/task; 0 if unreadable).
func threadCount() -> Int {
    guard let directory = opendir("/proc/self/task") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        if entry.pointee.d_name.0 != 46 { count += 1 }  // not "." or ".."
    }
    return count
}
