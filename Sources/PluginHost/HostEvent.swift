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
        var text = JSONText(capacity: 128)
        appendJSON(to: &text)
        return text.string
    }

    /// Appends ``jsonLine`` (without a newline) to `text`.
    func appendJSON(to text: inout JSONText) {
        text.append(byte: UInt8(ascii: "{"))
        text.append(key: "time")
        text.append(number: time)
        text.append(key: "event")
        switch kind {
        case .taskQueued(let task, let kind, let name, let parent):
            text.append(raw: "\"task-queued\"")
            text.append(key: "task"); text.append(integer: task)
            text.append(key: "kind"); text.append(string: kind)
            if let name { text.append(key: "name"); text.append(string: name) }
            if let parent { text.append(key: "parent"); text.append(integer: parent) }
        case .taskStarted(let task, let worker, let attempt):
            text.append(raw: "\"task-started\"")
            text.append(key: "task"); text.append(integer: task)
            text.append(key: "worker"); text.append(string: worker)
            text.append(key: "attempt"); text.append(integer: UInt64(attempt))
        case .taskEnded(let task, let kind, let outcome, let message):
            text.append(raw: "\"task-ended\"")
            text.append(key: "task"); text.append(integer: task)
            text.append(key: "kind"); text.append(string: kind)
            text.append(key: "outcome"); text.append(string: outcome.rawValue)
            if let message { text.append(key: "message"); text.append(string: message) }
        case .taskRetried(let task, let reason):
            text.append(raw: "\"task-retried\"")
            text.append(key: "task"); text.append(integer: task)
            text.append(key: "reason"); text.append(string: reason)
        case .workerStarted(let worker, let pid, let startup):
            text.append(raw: "\"worker-started\"")
            text.append(key: "worker"); text.append(string: worker)
            text.append(key: "pid"); text.append(integer: UInt64(pid))
            text.append(key: "startup"); text.append(number: startup)
        case .workerEnded(let worker, let reason):
            text.append(raw: "\"worker-ended\"")
            text.append(key: "worker"); text.append(string: worker)
            text.append(key: "reason"); text.append(string: reason)
        case .spawnFailed(let kind, let message):
            text.append(raw: "\"spawn-failed\"")
            text.append(key: "kind"); text.append(string: kind)
            text.append(key: "message"); text.append(string: message)
        case .hostDown(let host, let message, let seconds):
            text.append(raw: "\"host-down\"")
            text.append(key: "host"); text.append(string: host)
            text.append(key: "message"); text.append(string: message)
            text.append(key: "seconds"); text.append(number: seconds)
        case .hostDropped(let host, let message):
            text.append(raw: "\"host-dropped\"")
            text.append(key: "host"); text.append(string: host)
            text.append(key: "message"); text.append(string: message)
        case .feedback(let worker, let task, let bytes):
            text.append(raw: "\"feedback\"")
            text.append(key: "worker"); text.append(string: worker)
            text.append(key: "task"); text.append(integer: task)
            text.append(key: "bytes"); text.append(integer: UInt64(bytes))
        case .log(let source, let level, let message):
            text.append(raw: "\"log\"")
            text.append(key: "source"); text.append(string: source)
            text.append(key: "level"); text.append(integer: UInt64(level))
            text.append(key: "message"); text.append(string: message)
        }
        text.append(byte: UInt8(ascii: "}"))
    }
}

/// The few JSON values events need, encoded without Foundation.
enum JSONValue {
    case string(String)
    case integer(UInt64)
    case number(Double)

    var encoded: String {
        var text = JSONText()
        text.append(self)
        return text.string
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
    /// Not a group but a permission, with `taskProgress`: this observer's `taskQueued` event of a task
    /// may come late, just before the task's first `taskStarted` (or its `taskEnded`, if it never
    /// started), when no other observer wants it as the task is queued. For observers that need
    /// a task's kind and name only (a trace, a results directory): a run that queues its 400,000
    /// tasks at once then neither builds 400,000 events nor asks the plugin for as many names
    /// before its first dispatch. The late event's time is when it is sent.
    public static let taskQueuedLate = HostEventCategories(rawValue: 1 << 6)
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
