import CSupport
import PluginProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The cgroup (v2) directory of one run: each worker the run spawns gets a cgroup of its own
/// below it, so that everything the worker starts, even a process that left its process group
/// and session (`setsid` and a second `fork`), is killed with it.
///
/// Made under the host's own cgroup (`plugin-host.PID.N`), where cgroup v2 is mounted and
/// writable (as root on these machines); elsewhere ``make()`` returns nil and only the worker's
/// process group is killed. The run removes it at its end; if the host crashes in a plugin, the
/// crash guard writes its `cgroup.kill` first.
final class RunCgroup: @unchecked Sendable {
    let path: String
    /// The `memory.max` of each worker cgroup, in bytes, when the memory controller could be
    /// enabled for the run's cgroups (nil: no cgroup memory limit).
    private(set) var memoryLimit: UInt64?
    private let killDescriptor: Int32
    private let crashSlot: Int32
    private let workers = Atomic<UInt64>(0)
    /// Emptied worker cgroups, reused for the next workers: making and removing a cgroup per
    /// worker cost one-shot runs a fifth of their throughput.
    private let idle = Mutex<[WorkerCgroup]>([])

    private init(path: String, killDescriptor: Int32) {
        self.path = path
        self.killDescriptor = killDescriptor
        crashSlot = killDescriptor >= 0 ? csupport_crash_kill_register(killDescriptor) : -1
    }

    /// Where this process's cgroup v2 directory is, if cgroup v2 is mounted (nil otherwise).
    static let base: String? = {
        guard let mounts = SystemInfo.readSmallFile("/proc/self/mountinfo"), let groups = SystemInfo.readSmallFile("/proc/self/cgroup") else {
            return nil
        }
        // "0::/PATH" is this process's place in the v2 hierarchy.
        guard let own = groups.split(separator: "\n").first(where: { $0.hasPrefix("0::") })?.dropFirst(3) else {
            return nil
        }
        // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2",
                  fields.count > 4 else { continue }
            let root = fields[3], mountPoint = String(fields[4])
            var relative = Substring(own)
            if root != "/" {
                guard relative.hasPrefix(root) else { continue }
                relative = relative.dropFirst(root.count)
            }
            return mountPoint + (relative == "/" ? "" : String(relative))
        }
        return nil
    }()

    /// True when a run can make worker cgroups here (probed once, by making and removing one).
    static let isAvailable: Bool = {
        guard let run = make() else { return false }
        run.remove()
        return true
    }()

    private static let runs = Atomic<UInt64>(0)

    /// True when a run's worker cgroups can take a `memory.max` here (probed once): the memory
    /// controller can be enabled below the host's cgroup (cgroup v2 owns it, and the host's
    /// cgroup is the root or delegates it).
    static let canLimitMemory: Bool = {
        guard let run = make(memoryLimit: 1 << 40) else { return false }
        defer { run.remove() }
        return run.memoryLimit != nil
    }()

    /// A new run directory, or nil where cgroups cannot be made. With `memoryLimit`, the memory
    /// controller is enabled for its worker cgroups where it can be (see ``memoryLimit``).
    static func make(memoryLimit: UInt64? = nil) -> RunCgroup? {
        guard let base else { return nil }
        sweepStaleRuns(in: base)
        let number = runs.add(1, ordering: .relaxed).newValue
        let path = "\(base)/plugin-host.\(getpid()).\(number)"
        guard mkdir(path, 0o755) == 0 else { return nil }
        let run = RunCgroup(path: path, killDescriptor: open(path + "/cgroup.kill", O_WRONLY | O_CLOEXEC))
        if let memoryLimit {
            // The host's cgroup may already delegate the controller; the run's then can.
            _ = writeSmallFile(base + "/cgroup.subtree_control", "+memory")
            if writeSmallFile(path + "/cgroup.subtree_control", "+memory") { run.memoryLimit = memoryLimit }
        }
        return run
    }

    /// Removes the run directories of hosts that no longer exist (a host killed by SIGKILL, or
    /// ended by a plugin's crash, leaves its directory behind), killing anything still in them.
    private static func sweepStaleRuns(in base: String) {
        guard let directory = opendir(base) else { return }
        var stale: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let parts = name.split(separator: ".")
            guard parts.count == 3, parts[0] == "plugin-host", let pid = pid_t(parts[1]), pid != getpid(),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            stale.append(name)
        }
        closedir(directory)
        for name in stale {
            RunCgroup(path: "\(base)/\(name)", killDescriptor: -1).remove()
        }
    }

    /// A cgroup for the next worker (an emptied one, or a new one), or nil if none can be made.
    func makeWorkerGroup() -> WorkerCgroup? {
        if let reused = idle.withLock({ $0.popLast() }) {
            // (Without a memory limit there is no memory.events to read.)
            if memoryLimit != nil { reused.startCountingOutOfMemoryKills() }
            return reused
        }
        let number = workers.add(1, ordering: .relaxed).newValue
        let group = WorkerCgroup.make(path: "\(path)/w\(number)")
        group?.run = self
        if let group, let memoryLimit {
            _ = writeSmallFile(group.path + "/memory.max", String(memoryLimit))
            _ = writeSmallFile(group.path + "/memory.swap.max", "0")  // (Absent without swap accounting.)
            group.startCountingOutOfMemoryKills()
        }
        return group
    }

    /// Takes back an emptied worker cgroup for a later worker.
    fileprivate func reuse(_ group: WorkerCgroup) {
        idle.withLock { $0.append(group) }
    }

    /// Kills whatever is left in the run's cgroups and removes them. Call once, after the run's
    /// workers were reaped.
    func remove() {
        csupport_crash_kill_unregister(crashSlot)
        idle.withLock { $0.removeAll() }
        if let directory = opendir(path) {
            var leftovers: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasPrefix("w"), entry.pointee.d_type == UInt8(DT_DIR) { leftovers.append(name) }
            }
            closedir(directory)
            for name in leftovers { WorkerCgroup.make(path: "\(path)/\(name)", creating: false)?.remove() }
        }
        if killDescriptor >= 0 { close(killDescriptor) }
        rmdir(path)
    }
}

/// One worker's cgroup: the worker joins it at once (the master moves it there after the spawn,
/// and the worker moves itself before it loads the plugin), and everything in it is killed with
/// the worker.
final class WorkerCgroup: @unchecked Sendable {
    /// The environment variable that names the cgroup to `plugin-worker`.
    static let environmentVariable = "PLUGIN_HOST_CGROUP"
    /// The directory; the worker finds it in `PLUGIN_HOST_CGROUP`.
    let path: String
    /// The run that takes it back for another worker once emptied.
    fileprivate weak var run: RunCgroup?
    /// `oom_kill` of `memory.events` when the current worker got the cgroup (nil: no memory
    /// limit, or no memory controller here).
    private var outOfMemoryKillsBefore: Int?
    /// `cgroup.events`, opened at the first release and kept while the cgroup is reused (-1: not
    /// open): a one-shot run releases a cgroup per task.
    private var events: Int32 = -1

    private init(path: String) {
        self.path = path
    }

    deinit {
        if events >= 0 { close(events) }
    }

    /// Makes (or, with `creating: false`, opens) the cgroup at `path`; nil on failure.
    static func make(path: String, creating: Bool = true) -> WorkerCgroup? {
        if creating && mkdir(path, 0o755) != 0 { return nil }
        return WorkerCgroup(path: path)
    }

    /// The kernel's out-of-memory kills in this cgroup so far (`oom_kill` of `memory.events`),
    /// or nil where the memory controller is not enabled.
    private func outOfMemoryKills() -> Int? {
        guard let events = SystemInfo.readSmallFile(path + "/memory.events") else { return nil }
        let line = events.split(separator: "\n").first { $0.hasPrefix("oom_kill ") }
        return line.flatMap { Int($0.dropFirst("oom_kill ".count)) }
    }

    /// Starts counting for a new worker (see ``killedOutOfMemory``).
    fileprivate func startCountingOutOfMemoryKills() {
        outOfMemoryKillsBefore = outOfMemoryKills()
    }

    /// True when the kernel killed something in this cgroup for memory (over `memory.max`) since
    /// the current worker got it. Read once the worker ended, before ``release()``.
    var killedOutOfMemory: Bool {
        guard let before = outOfMemoryKillsBefore, let now = outOfMemoryKills() else { return false }
        return now > before
    }

    /// Moves process `pid` into this cgroup. Returns false on failure.
    @discardableResult
    func add(_ pid: pid_t) -> Bool {
        writeSmallFile(path + "/cgroup.procs", "\(pid)")
    }

    /// SIGKILLs every process in the cgroup: through `cgroup.kill` (Linux 5.14 and later), else
    /// one by one.
    func killAll() {
        if writeSmallFile(path + "/cgroup.kill", "1") { return }
        for line in (SystemInfo.readSmallFile(path + "/cgroup.procs") ?? "").split(separator: "\n") {
            if let pid = pid_t(line), pid > 0 { kill(pid, SIGKILL) }
        }
    }

    /// Once the worker was reaped: kills whatever it left in the cgroup, waits (up to 2 s) until
    /// the cgroup is empty and hands it back to the run for another worker. (One that does not
    /// empty in time is left to the run's ``RunCgroup/remove()``.) Call once per worker.
    func release() {
        if emptied() { run?.reuse(self) }
    }

    /// Removes the cgroup once the worker was reaped; whatever is still in it (what the worker
    /// left behind) is killed first, and the removal waits for it to go (up to 2 s). Call once.
    func remove() {
        defer {
            if events >= 0 { close(events) }
            events = -1
        }
        if rmdir(path) == 0 || errno != EBUSY { return }  // (The usual case: nothing was left.)
        if emptied() { _ = rmdir(path) }
    }

    /// Kills what is in the cgroup until `cgroup.events` says it is empty, waiting for each change
    /// (or 10 ms) in between, for at most 2 s. True when it emptied.
    private func emptied() -> Bool {
        if events < 0 { events = open(path + "/cgroup.events", O_RDONLY | O_CLOEXEC) }
        guard events >= 0 else { return false }
        let deadline = monotonicNanoseconds() &+ 2_000_000_000
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            while true {
                let count = pread(events, buffer.baseAddress, buffer.count, 0)
                guard count > 0 else { return false }
                if Self.saysUnpopulated(UnsafeBufferPointer(rebasing: buffer[0..<count])) { return true }
                guard monotonicNanoseconds() < deadline else { return false }
                killAll()
                // cgroup.events signals each change of "populated": wait for one (or 10 ms).
                var poller = pollfd(fd: events, events: Int16(POLLPRI), revents: 0)
                _ = poll(&poller, 1, 10)
            }
        }
    }

    private static let unpopulatedLine = Array("populated 0".utf8)

    /// True when `cgroup.events` text holds the line `populated 0`.
    static func saysUnpopulated(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let line = unpopulatedLine
        guard text.count >= line.count else { return false }
        for start in 0...(text.count - line.count) where start == 0 || text[start - 1] == UInt8(ascii: "\n") {
            if text[start..<(start + line.count)].elementsEqual(line) { return true }
        }
        return false
    }
}

/// Writes `text` to an existing file (a cgroup control file) in one write. Returns true on success.
private func writeSmallFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var copy = text
    return copy.withUTF8 { write(fd, $0.baseAddress, $0.count) == $0.count }
}
