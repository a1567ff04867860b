/// The severity of a line logged through ``MasterHost/log(_:level:)``.
public enum LogLevel: UInt32, Hashable, Sendable {
    /// Detail for debugging the task kind.
    case debug = 0
    /// Normal progress.
    case info = 1
    /// Something unexpected that the run survives.
    case warning = 2
    /// Something that went wrong.
    case error = 3
}
