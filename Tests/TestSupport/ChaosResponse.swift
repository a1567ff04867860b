// Task results of a run and the chaos plugin's responses in them.
import PluginHost
import Testing

extension RunReport {
    /// The result of task `id` (fails the test if missing).
    public func result(_ id: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws -> TaskResult {
        try #require(results.first { $0.id == id }, "no result for task \(id)", sourceLocation: sourceLocation)
    }
}

/// Parses a chaos response "pid=PID STATUS RESULT".
public struct ChaosResponse: Equatable {
    public var pid: Int32
    /// "F" or "O:COMP".
    public var status: String
    public var result: String

    public init?(_ message: String?) {
        guard let message, message.hasPrefix("pid=") else { return nil }
        let parts = message.dropFirst(4).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let pid = Int32(parts[0]) else { return nil }
        self.pid = pid
        self.status = String(parts[1])
        self.result = parts.count > 2 ? String(parts[2]) : ""
    }
}

extension TaskResult {
    /// The chaos response in the message, if it is one.
    public var response: ChaosResponse? { ChaosResponse(message) }
}
