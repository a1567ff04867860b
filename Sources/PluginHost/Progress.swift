/// Counts for a progress line.
public struct Progress: Sendable {
    /// Outcomes so far.
    public var counts: OutcomeCounts
    /// Tasks waiting for a worker.
    public var queued: Int
    /// Workers running a task.
    public var busy: Int
    /// Live workers.
    public var workers: Int
    /// True once every kind has produced all its tasks.
    public var inputExhausted: Bool
    /// Seconds since the start.
    public var elapsed: Double
    /// Each kind's own units of work (e.g. proofs), for kinds that count them.
    public var units: [(kind: String, progress: UnitProgress)]
}
