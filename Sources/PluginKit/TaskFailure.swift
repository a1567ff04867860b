/// An ordinary task failure, thrown from ``TaskWorker/perform(_:context:)``: the task ends as
/// failed with ``message`` and the worker goes on.
///
/// This is the ABI's `fail_task` ("ph.task-failure/1", ph/ext/task-failure.h): the worker is kept
/// with its status (a fresh worker stays fresh, an old one keeps its competence, so a persistent
/// worker keeps its cache), the task is not retried, and the master side is not asked about it
/// (none of ``TaskKind/useResponse(_:for:worker:)``, ``TaskKind/marshalError(_:task:)`` and
/// ``TaskKind/taskLost(_:reason:message:willRetry:)`` is called). Any other error thrown from `perform` is a marshal error: the
/// master replaces the worker. (A host older than ABI 2.1 does not offer the extension; there a
/// task failure is reported as a marshal error with the same message.)
public struct TaskFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// A one-line message; the host shows it as the failed task's message.
    public var message: String

    /// Creates a task failure.
    @inlinable
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    @inlinable
    public var description: String { message }
}
