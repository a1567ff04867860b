/// What a finished run produced.
public struct RunReport: Sendable {
    /// Outcome counts over every kind.
    public var counts: OutcomeCounts
    /// Outcome counts per task kind name.
    public var countsByKind: [String: OutcomeCounts]
    /// Every task's result, in the order they ended (only with `collectResults`).
    public var results: [TaskResult]
    /// The plugins' final reports, by kind name, in the order the kinds were added.
    public var pluginReports: [(kind: String, text: String)]
    /// Setup problems met during the run (spawn failures), one line each.
    public var setupErrors: [String]
    /// True if the run was interrupted by ``PluginRun/cancelAll()``.
    public var interrupted: Bool
    /// Set when the run stopped starting tasks early: drained or halted.
    public var stop: RunStop?
    /// Worker processes started during the run.
    public var workersStarted: Int
    /// Master threads started to serve worker slots: one per slot at most, and only as workers
    /// were needed (a run of 3 tasks at `-j 1000` starts at most 3).
    public var slotThreadsStarted: Int
    /// Workers that died out of memory under `--worker-memory`.
    public var workersOutOfMemory: Int
    /// Seconds from start to end.
    public var elapsed: Double
    /// The exit status a command-line program should use: a plugin's choice if it set one,
    /// else 2 for setup errors, 1 if any task did not end `done` or `skipped`, else 0. In a
    /// halted run the tasks the halt cancelled do not count (GNU parallel's rule: a halt on
    /// failures exits non-zero, one on successes zero unless a task failed).
    public var exitStatus: Int32
}
