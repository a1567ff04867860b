import PluginProtocol

/// One run of the host: task kinds, their queues, a shared pool of worker processes.
///
/// ```swift
/// let catalog = PluginCatalog()
/// let run = PluginRun(configuration: HostConfiguration(jobs: 2))
/// try run.addKind(catalog.load("chaos"), arguments: ["echo:hi", "segv"])
/// run.start()
/// let report = await run.completion()
/// ```
///
/// Tasks come from the plugins (`master_open`, `pull`, follow-ups) and can be cancelled from
/// outside. Every task ends exactly once; the report counts each outcome. A run cannot be
/// restarted: make a new one.
public final class PluginRun: Sendable {
    private let scheduler: Scheduler

    /// Creates a run with `configuration`.
    public init(configuration: HostConfiguration = HostConfiguration()) {
        scheduler = Scheduler(configuration: configuration)
    }

    /// Creates a run whose workers `transport` starts and reaches (tests give an in-memory one).
    init(configuration: HostConfiguration, transport: any WorkerTransport) {
        scheduler = Scheduler(configuration: configuration, transport: transport)
    }

    /// The run's configuration.
    public var configuration: HostConfiguration { scheduler.configuration }

    /// Adds a task kind: opens the plugin's master side with its arguments, which queues the
    /// kind's initial tasks. `policy` overrides the plugin's default worker policy, and binds:
    /// under `.oneShot` every worker ends after its task even when the plugin answers `stay`
    /// (the host warns once); `.persistent` keeps workers only when the plugin answers `stay`.
    /// Without `policy`, the plugin's answers decide. Kinds are added before ``start()``;
    /// afterwards this throws a usage error. Before the plugin is opened, the worker executable
    /// is checked (see ``HostConfiguration/checkWorkerExecutable()``): a missing one is a usage
    /// error here rather than a spawn failure of every task.
    public func addKind(_ library: PluginLibrary, arguments: [String] = [], policy: WorkerPolicy? = nil) throws(HostError) {
        guard !scheduler.isStarted else { throw .usage("task kinds must be added before the run starts") }
        try scheduler.transport.checkBeforeRun()
        let effective = policy ?? library.defaultPolicy
        let plugin = try MasterPlugin(library: library, arguments: arguments, policy: effective,
                                      maxWorkers: scheduler.configuration.jobs, blobs: scheduler.blobs)
        try scheduler.addKind(plugin, policy: policy)
    }

    /// Keeps a journal of the run (see ``JournalOptions``): call after the kinds are added,
    /// before ``start()``. A resumed journal must come from the same plugin builds, arguments
    /// and inputs; otherwise, or if the file is missing, unreadable, truncated in its header or
    /// corrupted, this throws one line naming the file and the cause, and leaves it untouched.
    /// A kind that says it cannot be replayed ("ph.journal/1") is refused with its reason.
    public func openJournal(_ options: JournalOptions) throws(HostError) {
        try scheduler.openJournal(options)
    }

    /// Calls `observer` for every event of `categories`, in order, on the thread that caused it,
    /// with the run's lock held: keep it quick and do not call back into the run from it.
    /// Add observers before ``start()`` to see every event. Events no observer wants cost nothing.
    public func observe(_ categories: HostEventCategories = .all, _ observer: @escaping @Sendable (HostEvent) -> Void) {
        scheduler.addObserver(categories, observer)
    }

    /// Every event of the run as an asynchronous sequence; it finishes when the run ends.
    /// Call before ``start()``.
    public func events() -> AsyncStream<HostEvent> {
        let (stream, continuation) = AsyncStream<HostEvent>.makeStream()
        scheduler.addObserver(.all) { continuation.yield($0) }
        scheduler.onCompletion { _ in continuation.finish() }
        return stream
    }

    /// Sends worker stderr lines (prefixed with the worker's name) and plugin warnings to
    /// `handler` instead of the host's stderr. Call before ``start()``. Plugin warnings reach it
    /// with the run's lock held: do not call back into the run from it.
    public func redirectWorkerStandardError(_ handler: @escaping @Sendable (String) -> Void) {
        scheduler.lock.withLock { scheduler.stderrHandler = handler }
    }

    /// Starts the workers' threads; returns at once. First raises the process's soft limit on
    /// open descriptors to its hard limit: each worker holds several pipes (twice as many with
    /// spares), so `-j` in the hundreds would meet EMFILE under the usual soft limit of 1,024.
    public func start() {
        DescriptorLimit.raiseToHardLimit()
        scheduler.start()
    }

    /// Waits for the end of the run and returns its report.
    public func completion() async -> RunReport {
        await withCheckedContinuation { continuation in
            scheduler.onCompletion { continuation.resume(returning: $0) }
        }
    }

    /// Blocks the calling thread until the run ends (for programs without async code).
    public func waitUntilFinished() -> RunReport {
        scheduler.lock.withLock {
            while scheduler.report == nil { scheduler.lock.wait() }
            return scheduler.report!
        }
    }

    /// Queues a task for the kind named `kind`, as if its plugin had pushed it. The bytes are the
    /// plugin's own task encoding. Returns the task's id, or nil if there is no such kind or the
    /// run has already ended. To push while the run goes on, hold its input open with
    /// ``holdInput()`` first: a run ends as soon as its queues drain.
    @discardableResult
    public func push(_ task: [UInt8], toKind kind: String, priority: Int32 = 0, timeout: Double? = nil) -> UInt64? {
        let (id, outbox) = scheduler.lock.withLock {
            (scheduler.pushLocked(kindName: kind, task: task, priority: priority,
                                  timeoutNanoseconds: timeout.map(nanoseconds(fromSeconds:)) ?? 0),
             scheduler.dispatchLocked())
        }
        outbox.deliver()
        return id
    }

    /// Keeps the run from ending when its queues drain, until ``releaseInput()``. Returns false
    /// if the run already ended.
    @discardableResult
    public func holdInput() -> Bool {
        scheduler.lock.withLock { scheduler.holdInputLocked() }
    }

    /// Releases a hold taken with ``holdInput()``; the run ends once nothing is queued or running.
    public func releaseInput() {
        let outbox = scheduler.lock.withLock {
            scheduler.releaseInputLocked()
            return scheduler.dispatchLocked()
        }
        outbox.deliver()
    }

    /// Cancels a task by id (queued or running) with its follow-ups. Returns false if it is
    /// unknown or already ended.
    @discardableResult
    public func cancel(task id: UInt64) -> Bool {
        let (found, outbox) = scheduler.lock.withLock { (scheduler.cancelLocked(taskID: id), scheduler.dispatchLocked()) }
        outbox.deliver()
        return found
    }

    /// Cancels every task and ends the run (what Ctrl-C does).
    public func cancelAll() {
        scheduler.lock.withLock { scheduler.cancelAllLocked() }
        scheduler.lock.withLock { scheduler.dispatchLocked() }.deliver()
    }

    /// Drains the run, what SIGTERM does on the command line: no task starts any more; every
    /// queued task, and every task pushed or lost from now on, ends `cancelled` with the reason
    /// `drained` (a lost task is not retried); input not pulled yet is never pulled. Running
    /// tasks may finish: after `timeout` seconds (nil: as long as they take) those still running
    /// are cancelled as by ``cancel(task:)`` (SIGTERM to the worker, SIGKILL after the grace
    /// period). The run then ends through its usual end (plugins' `finish`, the report with
    /// ``RunReport/stop`` set, completion handlers). ``cancelAll()`` during a drain stops at once.
    /// Returns how many tasks were running, or nil if the run has not started, has ended or was
    /// cancelled. Safe to call from any thread, e.g. a signal source's handler.
    @discardableResult
    public func drain(timeout: Double? = nil) -> Int? {
        let (running, outbox) = scheduler.lock.withLock {
            (scheduler.drainLocked(timeout: timeout), scheduler.dispatchLocked())
        }
        outbox.deliver()
        return running
    }

    /// Kills one worker by name; its running task counts as lost with its worker (and is retried).
    @discardableResult
    public func cancelWorker(named name: String) -> Bool {
        scheduler.lock.withLock { scheduler.cancelWorkerLocked(name: name) }
    }

    /// Names of the live workers.
    public var workerNames: [String] { scheduler.lock.withLock { scheduler.workerNamesLocked } }

    /// Counts for a progress display.
    public var progress: Progress { scheduler.lock.withLock { scheduler.progressLocked } }
}
