/// Settings of one run of the host.
public struct HostConfiguration: Sendable {
    /// The worker budget shared by every task kind of the run (`-j`).
    public var jobs: Int
    /// Default time limit per task attempt, in seconds; nil for none.
    public var timeout: Double?
    /// How many times a task whose worker died or expired is tried again on a fresh worker.
    public var retries: Int
    /// Retire a worker after this many jobs (checked between jobs); nil for no limit.
    public var maxJobsPerWorker: Int?
    /// Retire a worker whose resident memory exceeds this many bytes: between jobs it is
    /// recycled; during a job (checked every ``memoryCheckInterval`` for workers on this
    /// machine) it is killed and its task lost as in a death, with a reason naming both sizes.
    public var maxWorkerRSSBytes: Int?
    /// A hard memory limit per worker on this machine, in bytes (`--worker-memory`): its
    /// cgroup's `memory.max` where the run's cgroups can take one (the kernel's out-of-memory
    /// kill, counted in `memory.events`), else the worker's address-space limit (`RLIMIT_AS`),
    /// set by `plugin-worker` before it loads the plugin (a fatal signal right after a failed
    /// allocation). Such a worker is lost `out of memory` (``oomRetries``). Nil: no limit.
    public var workerMemoryBytes: Int?
    /// How many times a task whose worker ran out of memory is tried again, apart from
    /// ``retries`` (`--oom-retries`).
    public var oomRetries = 1
    /// GNU make's jobserver, when make started the host (`MAKEFLAGS`): the run takes a token
    /// from it for every worker beyond the first, within ``jobs``. Nil: ``jobs`` alone.
    public var jobserver: MakeJobserver?
    /// The free-memory floor in bytes (`--memfree`, GNU parallel's): no new worker starts while
    /// the memory available (``availableMemory``) is below it; under half of it the youngest
    /// running task is killed and queued again, not counted against its retries (while another
    /// task runs). Read every ``memfreeCheckInterval`` seconds. Nil: no floor.
    public var memfreeBytes: Int?
    /// Where the memory available comes from, in bytes (default: `MemAvailable` of
    /// `/proc/meminfo`); nil when it cannot be read (then the floor does not hold back).
    public var availableMemory: @Sendable () -> Int? = SystemInfo.availableMemoryBytes
    /// Seconds between readings of ``availableMemory`` while ``memfreeBytes`` is set.
    public var memfreeCheckInterval: Double = 0.25
    /// Plugin `log` lines at this level or above (0 debug, 1 info, 2 warning, 3 error) are
    /// written to stderr as `KIND: message` (see ``PluginRun/redirectWorkerStandardError(_:)``);
    /// every level reaches the `log` events. Default 2: warnings and errors.
    public var printedLogLevel: Int = 2
    /// Seconds between checks of busy workers' resident memory against ``maxWorkerRSSBytes``.
    public var memoryCheckInterval: Double = 0.1
    /// Puts each worker in a cgroup of its own, where ``workerCgroupsAvailable``: everything the
    /// worker starts, even a process in a new session (`setsid` and a second `fork`), is killed
    /// when the worker ends. Without (or where cgroups cannot be made) only the worker's process
    /// group is killed. Costs the kernel a few hundred microseconds per worker started.
    public var usesWorkerCgroups = true
    /// Starts the workers of this machine from a fork server, one per task kind: a
    /// `plugin-worker --fork-server` that loaded the plugin once and forks each fresh worker
    /// (a new process with clean memory that never ran a job) instead of executing
    /// `plugin-worker` anew: a fresh worker costs a `fork`, not an `exec`, a dynamic link, a
    /// runtime start and a `dlopen`; each slot's next worker is forked ahead of need, so starting
    /// it is a hand-over. A plugin the fork server refuses (one that runs threads once loaded)
    /// gets spawned workers. Workers on other machines are launched as before. False: every
    /// worker of this machine is a new `plugin-worker` process.
    public var usesForkServer = true
    /// Starts the workers of each launched host through one worker agent per host
    /// (`plugin-worker --agent`, started once by the launcher): one ssh session or Slurm step
    /// per host for the whole run, every worker of the host over it, each fresh worker forked
    /// there from a warm fork server, and a plugin the host lacks sent to it once. False: the
    /// launcher runs once per worker. (A launcher template that names `{plugin}`,
    /// `{plugin-file}` or `{worker}` always runs once per worker.)
    public var usesAgents = true
    /// When the run stops early on its tasks' outcomes (`--halt`); nil: it never does.
    public var halt: HaltPolicy?
    /// Seconds between SIGTERM and SIGKILL when a running task is cancelled.
    public var killGracePeriod: Double
    /// Path of the `plugin-worker` executable.
    public var workerExecutable: String
    /// How many of a worker's last stderr lines go into a death report.
    public var stderrTailLines: Int
    /// Seconds a new worker has to send its handshake before it counts as a spawn failure.
    public var handshakeTimeout: Double = 10
    /// Keep one ``TaskResult`` per task in the report (costs memory on huge runs).
    public var collectResults: Bool
    /// Before a task's answer is handled, forward what its worker wrote to stderr until then
    /// (the worker flushes before it answers), so each line is seen while its task is in flight
    /// (`--results`). Costs a system call per answer.
    public var drainsWorkerStderrBeforeAnswers = false
    /// How workers are started on other machines (nil: spawn `workerExecutable` here).
    public var launcher: WorkerLauncher?
    /// Where the workers run and how many on each (empty: `jobs` workers here, or through the
    /// launcher). With hosts, a slot of the budget belongs to one host for the whole run.
    public var hosts: [WorkerHost] = []
    /// Seconds between heartbeats, both ways, for launched workers (nil: 2 s for launched
    /// workers, none for local ones, which the master sees die through their pipes).
    public var heartbeatInterval: Double?
    /// A worker silent for this many heartbeat intervals is lost: killed, its task retried.
    public var heartbeatMisses: Int = 3
    /// Seconds a failing host is left alone after its first failure; doubles with each failure.
    public var hostBackOff: Double = 1
    /// Consecutive failures after which a host is dropped from the run.
    public var hostFailureLimit: Int = 3
    /// Runs each slot's thread, and so the workers it spawns, on a core of its own, when there
    /// are at least two slots and no more than the cores this process may use. A master thread
    /// and its worker then share a core while the pairs spread over the cores; left alone, the
    /// kernel was measured stacking every pair on one core on a busy machine (half the
    /// throughput of a persistent pool, and slower one-shot jobs). Each slot keeps the core the
    /// kernel started its thread on when no other slot of the run has it (see `CoreAssignment`).
    public var pinsSlotsToCores: Bool

    /// Creates a configuration; `workerExecutable` defaults to `plugin-worker` beside this program.
    public init(jobs: Int = HostConfiguration.defaultJobs, timeout: Double? = nil, retries: Int = 1,
                maxJobsPerWorker: Int? = nil, maxWorkerRSSBytes: Int? = nil, killGracePeriod: Double = 1.0,
                workerExecutable: String = PluginCatalog.executableDirectory + "/plugin-worker",
                stderrTailLines: Int = 5, collectResults: Bool = false, pinsSlotsToCores: Bool = true) {
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.maxJobsPerWorker = maxJobsPerWorker
        self.maxWorkerRSSBytes = maxWorkerRSSBytes
        self.killGracePeriod = killGracePeriod
        self.workerExecutable = workerExecutable
        self.stderrTailLines = stderrTailLines
        self.collectResults = collectResults
        self.pinsSlotsToCores = pinsSlotsToCores
    }

    /// How ``workerMemoryBytes`` holds here: `cgroup memory.max` where a run's worker cgroups
    /// can take a memory limit (cgroup v2 owns the memory controller and the host may enable
    /// it), else `address-space limit, RLIMIT_AS`.
    public var workerMemoryMechanism: String {
        usesWorkerCgroups && RunCgroup.canLimitMemory ? "cgroup memory.max" : "address-space limit, RLIMIT_AS"
    }

    /// The address-space limit workers on this machine set on themselves (nil: none).
    var workerAddressSpaceLimit: UInt64? { workerMemoryBytes.map { UInt64(max(0, $0)) } }

    /// The heartbeat interval of a worker on `host` (nil: no heartbeats).
    func heartbeat(launched: Bool) -> Double? {
        if let heartbeatInterval { return heartbeatInterval > 0 ? heartbeatInterval : nil }
        return launched ? 2 : nil
    }

    /// The number of cores this process may run on.
    public static var defaultJobs: Int { max(1, SystemInfo.activeProcessorCount) }

    /// The largest worker budget (`-j`) this machine can hold: an eighth of its lowest limit on
    /// processes and threads (`RLIMIT_NPROC`, `kernel.threads-max`, `kernel.pid_max`, the
    /// cgroup's `pids.max`), since each slot costs the master a thread or two and the worker a
    /// process with threads of its own. 4096 with the usual pid_max of 32768.
    public static var maximumJobs: Int { SystemInfo.processLimit.value / threadsPerSlot }

    /// True when workers can get cgroups of their own here (cgroup v2 mounted and writable,
    /// e.g. as root): see ``usesWorkerCgroups``.
    public static var workerCgroupsAvailable: Bool { RunCgroup.isAvailable }

    /// Process ids and threads one worker slot may take at once, counted for ``maximumJobs``.
    static let threadsPerSlot = 8

    /// Throws a usage error when `jobs` is above ``maximumJobs``, naming the limit.
    public static func checkJobs(_ jobs: Int) throws(HostError) {
        let limit = SystemInfo.processLimit
        let maximum = limit.value / threadsPerSlot
        guard jobs > maximum else { return }
        throw .usage("-j \(jobs) is more workers than this machine can hold: at most \(maximum) "
                     + "(\(threadsPerSlot) threads per worker within \(limit.name) = \(limit.value))")
    }
}
