/// Turns a run's events into Chrome's Trace Event format (the JSON array form, which Perfetto
/// and `chrome://tracing` load, even without its closing `]` when a run was cut short).
///
/// One process, `plugin-host`; thread 0 is the host (spawn failures, hosts down or dropped,
/// tasks that never reached a worker), and thread `SLOT + 1`, named `slot SLOT`, is one worker
/// slot. On a slot: a complete (`X`) slice per worker start-up (`start KIND:SLOT:UID`, spawn to
/// hello), a complete slice per task attempt (named by the plugin's task name, category the
/// kind; args: task, kind, name, attempt, worker, outcome, message or the reason it was lost),
/// an instant for each feedback message and for each worker end (`worker ended` when planned,
/// `worker died` otherwise, with the reason).
///
/// Entries come out one per line as the events arrive (``entries(for:_:)``), so a trace is
/// written while the run goes, holding only the tasks in flight.
public struct ChromeTrace {
    private struct Task {
        var kind: String
        var name: String?
        var attempt: Attempt?
    }

    private struct Attempt {
        var start: Double
        var slot: Int
        var worker: String
        var number: Int
    }

    private var tasks: [UInt64: Task] = [:]
    private var namedSlots: Set<Int> = []
    private var started = false

    /// An empty trace.
    public init() {}

    /// The text before the first entry.
    public static let opening = "["
    /// The text after the last entry.
    public static let closing = "]"

    /// Calls `emit` with the trace entries (JSON objects, one line each, to be separated by
    /// commas) that `event` adds.
    public mutating func entries(for event: HostEvent, _ emit: (String) -> Void) {
        if !started {
            started = true
            emit(Self.metadata("process_name", tid: nil, name: "plugin-host"))
            emit(Self.metadata("thread_name", tid: 0, name: "host"))
        }
        let time = event.time
        switch event.kind {
        case .taskQueued(let task, let kind, let name, _):
            tasks[task] = Task(kind: kind, name: name)
        case .taskStarted(let task, let worker, let attempt):
            let slot = WorkerName.slot(of: worker) ?? -1
            nameSlot(slot, emit)
            tasks[task, default: Task(kind: "?")].attempt = Attempt(start: time, slot: slot, worker: worker, number: attempt)
        case .taskEnded(let task, let kind, let outcome, let message):
            let record = tasks.removeValue(forKey: task) ?? Task(kind: kind)
            let details: [(String, JSONValue)] = message.map { [("message", .string($0))] } ?? []
            if let attempt = record.attempt {
                emit(slice(task, record, attempt, end: time, outcome: outcome.rawValue, details))
            } else {
                emit(Self.instant("task \(outcome.rawValue)", tid: 0, time: time, scope: "t",
                                  [("task", .integer(task)), ("kind", .string(kind))] + (record.name.map { [("name", .string($0))] } ?? []) + details))
            }
        case .taskRetried(let task, let reason):
            if let attempt = tasks[task]?.attempt, let record = tasks[task] {
                tasks[task]?.attempt = nil
                emit(slice(task, record, attempt, end: time, outcome: "lost", [("reason", .string(reason))]))
            }
        case .workerStarted(let worker, let pid, let startup):
            let slot = WorkerName.slot(of: worker) ?? -1
            nameSlot(slot, emit)
            emit(Self.entry(name: "start \(worker)", category: "worker", phase: "X", tid: slot + 1,
                            start: Self.micros(time) - Self.micros(startup), extra: ",\"dur\":\(Self.micros(startup))",
                            [("worker", .string(worker)), ("pid", .integer(UInt64(max(pid, 0)))), ("startup", .number(startup))]))
        case .workerEnded(let worker, let reason):
            let slot = WorkerName.slot(of: worker) ?? -1
            nameSlot(slot, emit)
            emit(Self.instant(WorkerEndReason.isPlanned(reason) ? "worker ended" : "worker died", tid: slot + 1, time: time, scope: "t",
                              [("worker", .string(worker)), ("reason", .string(reason))]))
        case .spawnFailed(let kind, let message):
            emit(Self.instant("spawn failed", tid: 0, time: time, scope: "p", [("kind", .string(kind)), ("message", .string(message))]))
        case .hostDown(let host, let message, let seconds):
            emit(Self.instant("host down: \(host)", tid: 0, time: time, scope: "g",
                              [("host", .string(host)), ("message", .string(message)), ("seconds", .number(seconds))]))
        case .hostDropped(let host, let message):
            emit(Self.instant("host dropped: \(host)", tid: 0, time: time, scope: "g", [("host", .string(host)), ("message", .string(message))]))
        case .feedback(let worker, let task, let bytes):
            let slot = WorkerName.slot(of: worker) ?? -1
            nameSlot(slot, emit)
            emit(Self.instant("feedback", tid: slot + 1, time: time, scope: "t",
                              [("task", .integer(task)), ("worker", .string(worker)), ("bytes", .integer(UInt64(bytes)))]))
        case .log:
            break
        }
    }

    private mutating func nameSlot(_ slot: Int, _ emit: (String) -> Void) {
        guard namedSlots.insert(slot).inserted else { return }
        emit(Self.metadata("thread_name", tid: slot + 1, name: slot >= 0 ? "slot \(slot)" : "other workers"))
        emit("{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":\(slot + 1),\"args\":{\"sort_index\":\(slot + 1)}}")
    }

    private func slice(_ task: UInt64, _ record: Task, _ attempt: Attempt, end: Double, outcome: String,
                       _ details: [(String, JSONValue)]) -> String {
        var args: [(String, JSONValue)] = [("task", .integer(task)), ("kind", .string(record.kind))]
        if let name = record.name { args.append(("name", .string(name))) }
        args += [("attempt", .integer(UInt64(max(attempt.number, 0)))), ("worker", .string(attempt.worker)), ("outcome", .string(outcome))]
        return Self.entry(name: record.name ?? "\(record.kind) task \(task)", category: record.kind, phase: "X", tid: attempt.slot + 1,
                          start: Self.micros(attempt.start), extra: ",\"dur\":\(max(Self.micros(end) - Self.micros(attempt.start), 0))",
                          args + details)
    }

    private static func metadata(_ name: String, tid: Int?, name value: String) -> String {
        "{\"name\":\"\(name)\",\"ph\":\"M\",\"pid\":1" + (tid.map { ",\"tid\":\($0)" } ?? "")
            + ",\"args\":{\"name\":\(JSONValue.string(value).encoded)}}"
    }

    private static func instant(_ name: String, tid: Int, time: Double, scope: String, _ args: [(String, JSONValue)]) -> String {
        entry(name: name, category: "host", phase: "i", tid: tid, start: micros(time), extra: ",\"s\":\"\(scope)\"", args)
    }

    private static func entry(name: String, category: String, phase: String, tid: Int, start: Int64, extra: String,
                              _ args: [(String, JSONValue)]) -> String {
        "{\"name\":\(JSONValue.string(name).encoded),\"cat\":\(JSONValue.string(category).encoded),\"ph\":\"\(phase)\",\"pid\":1,\"tid\":\(tid),"
            + "\"ts\":\(max(start, 0))\(extra),\"args\":{"
            + args.map { "\"\($0.0)\":\($0.1.encoded)" }.joined(separator: ",") + "}}"
    }

    /// Seconds as whole microseconds, the unit of `ts` and `dur` (and the resolution of
    /// `--events`, so a trace converted from an events file is the trace written live).
    private static func micros(_ seconds: Double) -> Int64 {
        let value = (seconds * 1e6).rounded()
        return value.isFinite && abs(value) < 9e18 ? Int64(value) : 0
    }
}
