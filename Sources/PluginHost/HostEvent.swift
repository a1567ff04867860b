/// Something that happened in a run: the stream behind `--events` and ``PluginRun/events``.
public struct HostEvent: Sendable {
    /// Seconds since the run started.
    public var time: Double
    /// What happened.
    public var kind: Kind
    /// The plugin's name for the task of a `taskEnded` event whose outcome is failed or expired,
    /// when the plugin names its tasks (`name_of_task`); nil otherwise. Not in ``jsonLine``
    /// (the `task-queued` event carries the name).
    public var taskName: String?

    /// The kinds of event.
    public enum Kind: Sendable, Equatable {
        /// A task entered a queue.
        case taskQueued(task: UInt64, kind: String, name: String?, parent: UInt64?)
        /// A request for the task was sent to a worker.
        case taskStarted(task: UInt64, worker: String, attempt: Int)
        /// The task ended (exactly once per task).
        case taskEnded(task: UInt64, kind: String, outcome: TaskOutcome, message: String?)
        /// The task's worker died or it expired, and it goes back to the queue.
        case taskRetried(task: UInt64, reason: String)
        /// A worker process answered its handshake, `startup` seconds after it was spawned.
        case workerStarted(worker: String, pid: Int32, startup: Double)
        /// A worker process is gone (retired, recycled, killed or dead).
        case workerEnded(worker: String, reason: String)
        /// A worker could not be started.
        case spawnFailed(kind: String, message: String)
        /// A worker host failed (a worker could not start there, or went silent) and is left
        /// alone for `seconds`.
        case hostDown(host: String, message: String, seconds: Double)
        /// A worker host failed too often in a row and is out of the run.
        case hostDropped(host: String, message: String)
        /// A worker sent feedback for a task.
        case feedback(worker: String, task: UInt64, bytes: Int)
        /// A plugin logged a line, or the host reported a worker's stderr line.
        case log(source: String, level: Int, message: String)
    }

    /// The category of this event, for filtered observers.
    public var category: HostEventCategories { kind.category }

    /// The event as one JSON object (one line of an `--events` file).
    public var jsonLine: String {
        var fields: [(String, JSONValue)] = [("time", .number(time))]
        switch kind {
        case .taskQueued(let task, let kind, let name, let parent):
            fields += [("event", .string("task-queued")), ("task", .integer(task)), ("kind", .string(kind))]
            if let name { fields.append(("name", .string(name))) }
            if let parent { fields.append(("parent", .integer(parent))) }
        case .taskStarted(let task, let worker, let attempt):
            fields += [("event", .string("task-started")), ("task", .integer(task)), ("worker", .string(worker)),
                       ("attempt", .integer(UInt64(attempt)))]
        case .taskEnded(let task, let kind, let outcome, let message):
            fields += [("event", .string("task-ended")), ("task", .integer(task)), ("kind", .string(kind)),
                       ("outcome", .string(outcome.rawValue))]
            if let message { fields.append(("message", .string(message))) }
        case .taskRetried(let task, let reason):
            fields += [("event", .string("task-retried")), ("task", .integer(task)), ("reason", .string(reason))]
        case .workerStarted(let worker, let pid, let startup):
            fields += [("event", .string("worker-started")), ("worker", .string(worker)), ("pid", .integer(UInt64(pid))),
                       ("startup", .number(startup))]
        case .workerEnded(let worker, let reason):
            fields += [("event", .string("worker-ended")), ("worker", .string(worker)), ("reason", .string(reason))]
        case .spawnFailed(let kind, let message):
            fields += [("event", .string("spawn-failed")), ("kind", .string(kind)), ("message", .string(message))]
        case .hostDown(let host, let message, let seconds):
            fields += [("event", .string("host-down")), ("host", .string(host)), ("message", .string(message)),
                       ("seconds", .number(seconds))]
        case .hostDropped(let host, let message):
            fields += [("event", .string("host-dropped")), ("host", .string(host)), ("message", .string(message))]
        case .feedback(let worker, let task, let bytes):
            fields += [("event", .string("feedback")), ("worker", .string(worker)), ("task", .integer(task)),
                       ("bytes", .integer(UInt64(bytes)))]
        case .log(let source, let level, let message):
            fields += [("event", .string("log")), ("source", .string(source)), ("level", .integer(UInt64(level))),
                       ("message", .string(message))]
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1.encoded)" }.joined(separator: ",") + "}"
    }
}

/// The few JSON values events need, encoded without Foundation.
enum JSONValue {
    case string(String)
    case integer(UInt64)
    case number(Double)

    var encoded: String {
        switch self {
        case .integer(let value): return String(value)
        case .number(let value):
            let micros = (value * 1_000_000).rounded()
            return String(micros / 1_000_000)
        case .string(let value):
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
    }
}

/// Groups of events an observer can ask for; events of other groups are not even built.
public struct HostEventCategories: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `taskQueued`, `taskStarted`, `taskRetried`.
    public static let taskProgress = HostEventCategories(rawValue: 1 << 0)
    /// `taskEnded`, whatever the outcome.
    public static let taskEnds = HostEventCategories(rawValue: 1 << 1)
    /// `taskEnded` with an outcome other than done or skipped (failed, expired, cancelled).
    public static let taskFailures = HostEventCategories(rawValue: 1 << 5)
    /// `workerStarted`, `workerEnded`, `spawnFailed`, `hostDown`, `hostDropped`.
    public static let workers = HostEventCategories(rawValue: 1 << 2)
    /// `feedback`.
    public static let feedback = HostEventCategories(rawValue: 1 << 3)
    /// `log`.
    public static let logs = HostEventCategories(rawValue: 1 << 4)
    /// Everything.
    public static let all: HostEventCategories = [.taskProgress, .taskEnds, .taskFailures, .workers, .feedback, .logs]
}

extension TaskOutcome {
    /// The categories of the `taskEnded` event for this outcome.
    var eventCategory: HostEventCategories {
        self == .done || self == .skipped ? .taskEnds : [.taskEnds, .taskFailures]
    }
}

extension HostEvent.Kind {
    /// The categories this kind of event belongs to.
    public var category: HostEventCategories {
        switch self {
        case .taskQueued, .taskStarted, .taskRetried: return .taskProgress
        case .taskEnded(_, _, let outcome, _):
            return outcome.eventCategory
        case .workerStarted, .workerEnded, .spawnFailed, .hostDown, .hostDropped: return .workers
        case .feedback: return .feedback
        case .log: return .logs
        }
    }
}
