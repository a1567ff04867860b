// One run under test: the run, its event log, and finishing it with the invariants checked.
import PluginHost
import Testing

/// One run under test: the run, its event log, and how many kinds were added.
public struct TestRun {
    public let run: PluginRun
    public let log = EventLog()

    public init(_ configuration: HostConfiguration = .test()) {
        self.init(run: PluginRun(configuration: configuration))
    }

    /// Observes `run` (made by the caller, e.g. with another worker transport).
    public init(run: PluginRun) {
        self.run = run
        let log = self.log
        run.observe { log.record(.event($0)) }
        run.redirectWorkerStandardError { log.record(.stderr($0)) }
    }

    /// A run of one chaos kind with `arguments`.
    public init(chaos arguments: [String], policy: WorkerPolicy? = nil, _ configuration: HostConfiguration = .test()) throws {
        self.init(configuration)
        try addChaos(arguments, policy: policy)
    }

    public func addChaos(_ arguments: [String], policy: WorkerPolicy? = nil) throws {
        try run.addKind(Chaos.library, arguments: arguments, policy: policy)
    }

    public func start() { run.start() }

    /// Waits for the end of the run (cancelling it if it takes longer than `timeout` seconds,
    /// which is recorded as an issue), then checks the invariants every run must satisfy.
    public func finish(timeout: Double = 90, checkInvariants: Bool = true,
                sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunReport {
        var report = await awaitReport(run, timeout: timeout)
        if report == nil {
            Issue.record("the run did not finish within \(timeout) s; cancelling it. \(diagnostics)", sourceLocation: sourceLocation)
            run.cancelAll()
            report = await awaitReport(run, timeout: 30)
        }
        let final = try #require(report, "the run did not end even after cancelAll", sourceLocation: sourceLocation)
        if checkInvariants { expectInvariants(final, log, sourceLocation: sourceLocation) }
        return final
    }

    /// The run's state, for a report on a hang.
    public var diagnostics: String {
        let progress = run.progress
        let names = run.workerNames
        let recent = log.events.suffix(25).map { "  \($0.time) \($0.kind)" }.joined(separator: "\n")
        let pending = Set(log.queuedTasks).subtracting(log.kinds.compactMap { kind -> UInt64? in
            if case .taskEnded(let task, _, _, _) = kind { task } else { nil }
        })
        return "progress: \(progress.counts), queued \(progress.queued), busy \(progress.busy), workers \(progress.workers), "
            + "inputExhausted \(progress.inputExhausted); workers: \(names); unended tasks: \(pending.sorted().prefix(20)); "
            + "last events:\n\(recent)"
    }

    /// Starts the run, SIGKILLs the worker of `task`'s attempt `attempt` as soon as it starts
    /// (from a dedicated thread), and finishes. Fails the test if the kill did not happen.
    public func startAndFinish(killingWorkerOf task: UInt64, attempt: Int, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> (report: RunReport, killed: KilledWorker)
    {
        let log = self.log
        let reaction = Reaction { log.blockingKillWorker(runningTask: task, attempt: attempt) }
        start()
        let killed = try #require(await reaction.value, "could not kill the worker of task \(task)", sourceLocation: sourceLocation)
        return (try await finish(sourceLocation: sourceLocation), killed)
    }

    /// Starts and finishes.
    public func startAndFinish(timeout: Double = 90, sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunReport {
        start()
        return try await finish(timeout: timeout, sourceLocation: sourceLocation)
    }
}
