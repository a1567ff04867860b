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
///   ahead of need (in CGROUP, on CPU, its protocol descriptors set up) that runs no plugin code
///   until the master writes its name and heartbeats to its stdin (``SpareWorkerStart``), or
///   exits at end of file there. Answered as `F`. It is still a fresh worker: forked from this
///   server, which never ran a job, and it never ran one before.
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
///
/// After each fork every page the server writes is copied first (copy-on-write: the child still
/// shares it), so the loop writes as few pages as it can: its buffers are allocated once, a
/// command's fields and descriptors are read where they lie, answers are formatted on the stack,
/// and a cgroup's open `cgroup.procs` is found by a hash of its path's bytes, without making a
/// String.
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
    /// Each (reused) worker cgroup's `cgroup.procs`, open, by a hash of its path (the path is kept
    /// to tell collisions): a worker joins its cgroup with one write (see `csupport_fork_worker`).
    private var procsFiles: [UInt64: (path: [UInt8], descriptor: Int32)] = [:]
    /// Its workers' command lines, made once.
    private let commandLines: ForkedCommandLines
    /// The receive buffer and the poll set, allocated once.
    private let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4096)
    private var watched: [pollfd] = []
    private var watchedPids: [Int32] = []

    init(plugin: PluginLibrary, control: Int32, addressSpaceLimit: UInt64?) {
        self.plugin = plugin
        self.control = control
        self.addressSpaceLimit = addressSpaceLimit
        commandLines = ForkedCommandLines(pluginPath: plugin.path)
        // Each worker's protocol output is descriptor 4 (see takeProtocolDescriptors).
        setenv("PLUGIN_HOST_PROTOCOL_FD", "4", 1)
        var cpus: [Int32] = [0, 0]
        ownCPU = csupport_allowed_cpus(&cpus, 2) == 1 ? cpus[0] : nil
        children.reserveCapacity(256)
        procsFiles.reserveCapacity(64)
        watched.reserveCapacity(257)
        watchedPids.reserveCapacity(256)
    }

    mutating func run() -> Never {
        while true {
            watched.removeAll(keepingCapacity: true)
            watchedPids.removeAll(keepingCapacity: true)
            watched.append(pollfd(fd: control, events: Int16(POLLIN), revents: 0))
            for (pid, child) in children where child.awaited {
                watched.append(pollfd(fd: child.pidfd, events: Int16(POLLIN), revents: 0))
                watchedPids.append(pid)
            }
            let ready = retryingOnInterrupt { poll(&watched, nfds_t(watched.count), -1) }
            if ready < 0 { shutDown() }
            for index in watchedPids.indices where watched[index + 1].revents != 0 {
                reap(watchedPids[index])
            }
            if watched[0].revents != 0 { readCommand() }
        }
    }

    /// Reads and carries out one command from the master.
    private mutating func readCommand() {
        var fds: (Int32, Int32, Int32) = (-1, -1, -1)
        var count: Int32 = 0
        let received = withUnsafeMutableBytes(of: &fds) { raw in
            csupport_receive_with_fds(control, buffer.baseAddress, buffer.count, raw.baseAddress!.assumingMemoryBound(to: Int32.self),
                                      3, &count)
        }
        if received <= 0 { shutDown() }
        let command = CommandFields(UnsafeBufferPointer(rebasing: buffer[0..<received]))
        switch (command.first, command.count) {
        case (UInt8(ascii: "F"), 7) where count == 3:
            let start = SpareWorkerStart(name: command.text(2), heartbeat: Double(command.text(5)),
                                         heartbeatMisses: Int(command.text(6)) ?? 3)
            fork(sequence: command.bytes(1), descriptors: fds, cgroup: command.bytes(3), cpu: command.integer(4),
                 start: start)
        case (UInt8(ascii: "S"), 4) where count == 3:
            fork(sequence: command.bytes(1), descriptors: fds, cgroup: command.bytes(2), cpu: command.integer(3),
                 start: nil)
        case (UInt8(ascii: "W"), 2):
            guard let value = command.integer(1), let pid = Int32(exactly: value), let child = children[pid] else {
                ForkServerChannel.send(["w", command.text(1), "u", "0"], on: control)  // Never ours, or reaped.
                return
            }
            children[pid] = (child.pidfd, true)
            if child.pidfd < 0 { reap(pid) }  // No pidfd (old kernel): wait for it now.
        default:
            for fd in [fds.0, fds.1, fds.2].prefix(Int(count)) { close(fd) }  // (Rare: an Array will do.)
            printError("plugin-worker: fork server: unexpected command from the master")
        }
    }

    /// Forks a worker on `descriptors` (closed here afterwards) that joins `cgroup` (empty: none)
    /// and runs on `cpu` (nil: any), named by `start`, or a spare that waits for its start
    /// message when nil; answers `f SEQ PID` or `e SEQ REASON`.
    private mutating func fork(sequence: UnsafeBufferPointer<UInt8>, descriptors fds: (Int32, Int32, Int32),
                               cgroup: UnsafeBufferPointer<UInt8>, cpu: Int64?, start: SpareWorkerStart?) {
        let procs = procsFile(of: cgroup)
        var ends = fds
        let pid = withUnsafePointer(to: &ends) {
            $0.withMemoryRebound(to: Int32.self, capacity: 3) { csupport_fork_worker($0, getpid(), procs) }
        }
        if pid == 0 {
            if let cpu, let core = Int32(exactly: cpu), core != ownCPU { _ = csupport_pin_thread_to_cpu(core) }
            // (Joined already, through the open cgroup.procs.)
            forkedWorkerMain(plugin, commandLines: commandLines, cgroup: procs >= 0 ? "" : String(decoding: cgroup, as: UTF8.self),
                             addressSpaceLimit: addressSpaceLimit, start: start)
        }
        let error = errno
        close(fds.0)
        close(fds.1)
        close(fds.2)
        guard pid > 0 else {
            ForkServerChannel.send(["e", String(decoding: sequence, as: UTF8.self), "fork: \(SystemError(code: error))"], on: control)
            return
        }
        let pidfd = csupport_pidfd_open(pid)
        children[pid] = (pidfd, false)
        ForkServerChannel.answer(UInt8(ascii: "f"), sequence, Int64(pid), on: control)
    }

    /// The open `cgroup.procs` of the cgroup at path `cgroup` (opened now if it is not yet), or -1
    /// for none or when it cannot be opened (not kept: the next worker tries again). At most 64
    /// are kept: past that, one goes for each new one.
    private mutating func procsFile(of cgroup: UnsafeBufferPointer<UInt8>) -> Int32 {
        if cgroup.isEmpty { return -1 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in cgroup { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        if let open = procsFiles[hash] {
            if open.path.elementsEqual(cgroup) { return open.descriptor }
            close(open.descriptor)  // (A collision: the newer path takes the place.)
            procsFiles[hash] = nil
        }
        if procsFiles.count >= 64, let oldest = procsFiles.first {
            close(oldest.value.descriptor)
            procsFiles.removeValue(forKey: oldest.key)
        }
        let descriptor = open(String(decoding: cgroup, as: UTF8.self) + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
        if descriptor >= 0 { procsFiles[hash] = (Array(cgroup), descriptor) }
        return descriptor
    }

    /// Reaps worker `pid`, which has ended, and tells the master how.
    private mutating func reap(_ pid: Int32) {
        var status: Int32 = 0
        let rc = retryingOnInterrupt { waitpid(pid, &status, 0) }
        if let child = children.removeValue(forKey: pid), child.pidfd >= 0 { close(child.pidfd) }
        var value: Int32 = 0
        let how: UInt8
        switch rc < 0 ? 0 : csupport_decode_wait_status(status, &value) {
        case 1: how = UInt8(ascii: "x")
        case 2: how = UInt8(ascii: "s")
        default:
            how = UInt8(ascii: "u")
            value = 0
        }
        ForkServerChannel.answer(UInt8(ascii: "w"), pid: Int64(pid), how: how, Int64(value), on: control)
    }

    /// The master is gone or done: every worker goes, then the server.
    private func shutDown() -> Never {
        for pid in children.keys { kill(-pid, SIGKILL) }
        exit(0)
    }
}

/// The NUL-separated fields of one command, read where they lie in the receive buffer.
private struct CommandFields {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Each field's start and end in `bytes` (at most 8 fields are told apart: the protocol's
    /// commands have at most 7).
    private var bounds: (Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// How many fields (9 or more: too many for any command).
    private(set) var count = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        count = 1
        withUnsafeMutableBytes(of: &bounds) { raw in
            let edges = raw.bindMemory(to: Int.self)
            edges[0] = 0
            for index in bytes.indices where bytes[index] == 0 {
                if count < 9 { edges[count] = index + 1 }
                count += 1
            }
            if count < 9 { edges[count] = bytes.count + 1 }
        }
    }

    /// The first byte of the first field (the command's letter), 0 when it is empty.
    var first: UInt8 { field(0).first ?? 0 }

    /// Field `index`'s bytes.
    func bytes(_ index: Int) -> UnsafeBufferPointer<UInt8> { field(index) }

    /// Field `index` as text.
    func text(_ index: Int) -> String { String(decoding: field(index), as: UTF8.self) }

    /// Field `index` as a decimal integer (an optional minus sign, digits), nil otherwise.
    func integer(_ index: Int) -> Int64? {
        let digits = field(index)
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        var negative = false
        for (offset, byte) in digits.enumerated() {
            if offset == 0 && byte == UInt8(ascii: "-") && digits.count > 1 {
                negative = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    private func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        guard index < count, index < 8 else { return UnsafeBufferPointer(start: nil, count: 0) }
        return withUnsafeBytes(of: bounds) { raw in
            let edges = raw.bindMemory(to: Int.self)
            return UnsafeBufferPointer(rebasing: bytes[edges[index]..<(edges[index + 1] - 1)])
        }
    }
}

/// Sends one message of the fork server's protocol.
enum ForkServerChannel {
    /// Sends `fields`, separated by NUL bytes.
    static func send(_ fields: [String], on socket: Int32) {
        var bytes = Array(fields.joined(separator: "\0").utf8)
        _ = csupport_send_with_fds(socket, &bytes, bytes.count, nil, 0)
    }

    /// Sends `LETTER SEQUENCE NUMBER` (`f SEQ PID`), formatted on the stack: `sequence` is the
    /// request's field as it came.
    static func answer(_ letter: UInt8, _ sequence: UnsafeBufferPointer<UInt8>, _ number: Int64, on socket: Int32) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: sequence.count + 32) { buffer in
            var used = 0
            buffer[used] = letter
            buffer[used + 1] = 0
            used += 2
            for byte in sequence {
                buffer[used] = byte
                used += 1
            }
            buffer[used] = 0
            used += 1
            used += decimal(number, into: UnsafeMutableBufferPointer(rebasing: buffer[used...]))
            _ = csupport_send_with_fds(socket, buffer.baseAddress, used, nil, 0)
        }
    }

    /// Sends `LETTER PID HOW VALUE` (`w PID x STATUS`), formatted on the stack.
    static func answer(_ letter: UInt8, pid: Int64, how: UInt8, _ value: Int64, on socket: Int32) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            var used = 0
            buffer[used] = letter
            buffer[used + 1] = 0
            used += 2
            used += decimal(pid, into: UnsafeMutableBufferPointer(rebasing: buffer[used...]))
            buffer[used] = 0
            buffer[used + 1] = how
            buffer[used + 2] = 0
            used += 3
            used += decimal(value, into: UnsafeMutableBufferPointer(rebasing: buffer[used...]))
            _ = csupport_send_with_fds(socket, buffer.baseAddress, used, nil, 0)
        }
    }

    /// Writes `value` in decimal at the start of `buffer` (room for 20 bytes); returns how many.
    private static func decimal(_ value: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, reversed digits
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var count = 0
            repeat {
                scratch[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            var used = 0
            if value < 0 {
                buffer[0] = UInt8(ascii: "-")
                used = 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) {
                buffer[used] = scratch[index]
                used += 1
            }
            return used
        }
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
