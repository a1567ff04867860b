/// What a task kind's master side says at the end of a run; returned by ``TaskKind/finish(summary:)``.
public struct KindReport: Hashable, Sendable {
    /// Text appended to the report the host prints at the end of the run; empty for none.
    public var text: String
    /// The run's exit status, or `nil` to let the host derive it from the outcomes.
    public var exitStatus: Int32?

    /// Creates a report.
    @inlinable
    public init(_ text: String = "", exitStatus: Int32? = nil) {
        self.text = text
        self.exitStatus = exitStatus
    }
}
