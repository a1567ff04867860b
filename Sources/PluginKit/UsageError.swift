/// A problem with a task kind's arguments, thrown from ``TaskKind/init(arguments:context:)``.
///
/// The host shows the message as a usage error for the task kind. Any other error thrown from
/// the initializer is shown the same way, through its description.
public struct UsageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A one-line message, e.g. `"--count needs a number"`.
    public var message: String

    /// Creates a usage error.
    @inlinable
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    @inlinable
    public var description: String { message }
}
