/// How a task ended. Every task ends exactly once with one of these.
public enum TaskOutcome: String, Sendable, CaseIterable, Codable {
    /// The plugin accepted the response (or resolved the task itself).
    case done
    /// The task failed: the plugin said so, its worker died too often, or it could not start.
    case failed
    /// The task was cancelled before it finished.
    case cancelled
    /// The task ran past its time limit on every attempt.
    case expired
    /// `request_of_task` said the task was no longer valid.
    case skipped
}

/// Counts of task outcomes.
public struct OutcomeCounts: Sendable, Equatable, Codable {
    public var done = 0
    public var failed = 0
    public var cancelled = 0
    public var expired = 0
    public var skipped = 0

    /// Creates empty counts.
    public init() {}

    /// All tasks that ended.
    public var total: Int { done + failed + cancelled + expired + skipped }

    /// Adds one outcome.
    public mutating func record(_ outcome: TaskOutcome) {
        switch outcome {
        case .done: done += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        case .expired: expired += 1
        case .skipped: skipped += 1
        }
    }

    /// The count for one outcome.
    public subscript(outcome: TaskOutcome) -> Int {
        switch outcome {
        case .done: return done
        case .failed: return failed
        case .cancelled: return cancelled
        case .expired: return expired
        case .skipped: return skipped
        }
    }
}
