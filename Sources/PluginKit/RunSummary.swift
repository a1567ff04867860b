/// How many tasks ended each way during a run; handed to ``TaskKind/finish(summary:)``.
public struct RunSummary: Hashable, Sendable {
    /// Tasks that succeeded.
    public var done: UInt64
    /// Tasks that failed.
    public var failed: UInt64
    /// Tasks that were cancelled.
    public var cancelled: UInt64
    /// Tasks that ran past their time limit.
    public var expired: UInt64
    /// Tasks that were obsolete when their turn came.
    public var skipped: UInt64

    /// Creates a summary.
    @inlinable
    public init(done: UInt64 = 0, failed: UInt64 = 0, cancelled: UInt64 = 0, expired: UInt64 = 0, skipped: UInt64 = 0) {
        self.done = done
        self.failed = failed
        self.cancelled = cancelled
        self.expired = expired
        self.skipped = skipped
    }
}
