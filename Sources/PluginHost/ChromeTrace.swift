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

    private var tasks = TaskTable<Task>()
    private var namedSlots: Set<Int> = []
    /// Each worker's slot, parsed from its name once.
    private var slots: [String: Int] = [:]
    private var started = false
    /// Whether an entry was written: the next one goes after a comma.
    private var wroteEntry = false

    /// An empty trace.
    public init() {}

    /// The text before the first entry.
    public static let opening = "["
    /// The text after the last entry.
    public static let closing = "]"

    /// Calls `emit` with the trace entries (JSON objects, one line each, to be separated by
    /// commas) that `event` adds.
    public mutating func entries(for event: HostEvent, _ emit: (String) -> Void) {
        var text = JSONText()
        append(event, to: &text, separated: false)
        for line in text.bytes.split(separator: 10) { emit(String(decoding: line, as: UTF8.self)) }
    }

    /// Appends the entries `event` adds to `text`, a line each, each after a comma but the
    /// trace's first (the lines between ``opening`` and ``closing``).
    mutating func append(_ event: HostEvent, to text: inout JSONText) {
        append(event, to: &text, separated: true)
    }

    private mutating func append(_ event: HostEvent, to text: inout JSONText, separated: Bool) {
        var out = Entries(text: text, separated: separated, wroteEntry: wroteEntry)
        text = JSONText()  // (Moved into `out` and back, so the buffer is not copied.)
        add(event, &out)
        text = out.text
        wroteEntry = out.wroteEntry
    }

    /// The text being written, and whether an entry needs a comma before it.
    private struct Entries {
        var text: JSONText
        let separated: Bool
        var wroteEntry: Bool

        /// Starts an entry: the comma, the opening brace.
        mutating func begin() {
            if separated && wroteEntry { text.append(byte: UInt8(ascii: ",")) }
            wroteEntry = true
            text.append(byte: UInt8(ascii: "{"))
        }

        /// Ends an entry: the closing brace, the newline.
        mutating func end() {
            text.append(byte: UInt8(ascii: "}"))
            text.append(byte: 10)
        }
    }

    private mutating func add(_ event: HostEvent, _ out: inout Entries) {
        if !started {
            started = true
            Self.metadata("process_name", tid: nil, name: "plugin-host", &out)
            Self.metadata("thread_name", tid: 0, name: "host", &out)
        }
        let time = event.time
        switch event.kind {
        case .taskQueued(let task, let kind, let name, _):
            tasks[task] = Task(kind: kind, name: name)
        case .taskStarted(let task, let worker, let attempt):
            let slot = slot(of: worker)
            nameSlot(slot, &out)
            var record = tasks[task] ?? Task(kind: "?")
            record.attempt = Attempt(start: time, slot: slot, worker: worker, number: attempt)
            tasks[task] = record
        case .taskEnded(let task, let kind, let outcome, let message):
            let record = tasks.removeValue(forKey: task) ?? Task(kind: kind)
            if let attempt = record.attempt {
                Self.slice(task, record, attempt, end: time, outcome: outcome.rawValue, &out) { text in
                    if let message { text.append(key: "message"); text.append(string: message) }
                }
            } else {
                Self.instant("task \(outcome.rawValue)", tid: 0, time: time, scope: "t", &out) { text in
                    text.append(key: "task"); text.append(integer: task)
                    text.append(key: "kind"); text.append(string: kind)
                    if let name = record.name { text.append(key: "name"); text.append(string: name) }
                    if let message { text.append(key: "message"); text.append(string: message) }
                }
            }
        case .taskRetried(let task, let reason):
            if var record = tasks[task], let attempt = record.attempt {
                record.attempt = nil
                tasks[task] = record
                Self.slice(task, record, attempt, end: time, outcome: "lost", &out) { text in
                    text.append(key: "reason"); text.append(string: reason)
                }
            }
        case .workerStarted(let worker, let pid, let startup):
            let slot = slot(of: worker)
            nameSlot(slot, &out)
            Self.entry(name: "start \(worker)", category: "worker", phase: "X", tid: slot + 1,
                       start: Self.micros(time) - Self.micros(startup), &out, extra: { text in
                           text.append(key: "dur"); text.append(integer: Self.micros(startup))
                       }) { text in
                text.append(key: "worker"); text.append(string: worker)
                text.append(key: "pid"); text.append(integer: UInt64(max(pid, 0)))
                text.append(key: "startup"); text.append(number: startup)
            }
        case .workerEnded(let worker, let reason):
            let slot = slot(of: worker)
            nameSlot(slot, &out)
            Self.instant(WorkerEndReason.isPlanned(reason) ? "worker ended" : "worker died", tid: slot + 1, time: time, scope: "t", &out) { text in
                text.append(key: "worker"); text.append(string: worker)
                text.append(key: "reason"); text.append(string: reason)
            }
        case .spawnFailed(let kind, let message):
            Self.instant("spawn failed", tid: 0, time: time, scope: "p", &out) { text in
                text.append(key: "kind"); text.append(string: kind)
                text.append(key: "message"); text.append(string: message)
            }
        case .hostDown(let host, let message, let seconds):
            Self.instant("host down: \(host)", tid: 0, time: time, scope: "g", &out) { text in
                text.append(key: "host"); text.append(string: host)
                text.append(key: "message"); text.append(string: message)
                text.append(key: "seconds"); text.append(number: seconds)
            }
        case .hostDropped(let host, let message):
            Self.instant("host dropped: \(host)", tid: 0, time: time, scope: "g", &out) { text in
                text.append(key: "host"); text.append(string: host)
                text.append(key: "message"); text.append(string: message)
            }
        case .feedback(let worker, let task, let bytes):
            let slot = slot(of: worker)
            nameSlot(slot, &out)
            Self.instant("feedback", tid: slot + 1, time: time, scope: "t", &out) { text in
                text.append(key: "task"); text.append(integer: task)
                text.append(key: "worker"); text.append(string: worker)
                text.append(key: "bytes"); text.append(integer: UInt64(bytes))
            }
        case .log:
            break
        }
    }

    /// The slot of `worker` (-1 for a name without one).
    private mutating func slot(of worker: String) -> Int {
        if let slot = slots[worker] { return slot }
        let slot = WorkerName.slot(of: worker) ?? -1
        if slots.count >= 4096 { slots.removeAll(keepingCapacity: true) }  // (One-shot workers: a name each.)
        slots[worker] = slot
        return slot
    }

    private mutating func nameSlot(_ slot: Int, _ out: inout Entries) {
        guard namedSlots.insert(slot).inserted else { return }
        Self.metadata("thread_name", tid: slot + 1, name: slot >= 0 ? "slot \(slot)" : "other workers", &out)
        out.begin()
        out.text.append(raw: "\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":")
        out.text.append(integer: Int64(slot + 1))
        out.text.append(raw: ",\"args\":{\"sort_index\":")
        out.text.append(integer: Int64(slot + 1))
        out.text.append(byte: UInt8(ascii: "}"))
        out.end()
    }

    private static func slice(_ task: UInt64, _ record: Task, _ attempt: Attempt, end: Double, outcome: String,
                              _ out: inout Entries, details: (inout JSONText) -> Void) {
        let name: String
        if let taskName = record.name { name = taskName } else { name = "\(record.kind) task \(task)" }
        entry(name: name, category: record.kind, phase: "X", tid: attempt.slot + 1, start: micros(attempt.start), &out, extra: { text in
            text.append(key: "dur"); text.append(integer: max(micros(end) - micros(attempt.start), 0))
        }) { text in
            text.append(key: "task"); text.append(integer: task)
            text.append(key: "kind"); text.append(string: record.kind)
            if let name = record.name { text.append(key: "name"); text.append(string: name) }
            text.append(key: "attempt"); text.append(integer: UInt64(max(attempt.number, 0)))
            text.append(key: "worker"); text.append(string: attempt.worker)
            text.append(key: "outcome"); text.append(string: outcome)
            details(&text)
        }
    }

    private static func metadata(_ name: StaticString, tid: Int?, name value: String, _ out: inout Entries) {
        out.begin()
        out.text.append(raw: "\"name\":\"")
        out.text.append(raw: name)
        out.text.append(raw: "\",\"ph\":\"M\",\"pid\":1")
        if let tid {
            out.text.append(raw: ",\"tid\":")
            out.text.append(integer: Int64(tid))
        }
        out.text.append(raw: ",\"args\":{\"name\":")
        out.text.append(string: value)
        out.text.append(byte: UInt8(ascii: "}"))
        out.end()
    }

    private static func instant(_ name: String, tid: Int, time: Double, scope: StaticString, _ out: inout Entries,
                                _ args: (inout JSONText) -> Void) {
        entry(name: name, category: "host", phase: "i", tid: tid, start: micros(time), &out, extra: { text in
            text.append(raw: ",\"s\":\"")
            text.append(raw: scope)
            text.append(byte: UInt8(ascii: "\""))
        }, args)
    }

    private static func entry(name: String, category: String, phase: StaticString, tid: Int, start: Int64, _ out: inout Entries,
                              extra: (inout JSONText) -> Void, _ args: (inout JSONText) -> Void) {
        out.begin()
        out.text.append(raw: "\"name\":")
        out.text.append(string: name)
        out.text.append(raw: ",\"cat\":")
        out.text.append(string: category)
        out.text.append(raw: ",\"ph\":\"")
        out.text.append(raw: phase)
        out.text.append(raw: "\",\"pid\":1,\"tid\":")
        out.text.append(integer: Int64(tid))
        out.text.append(raw: ",\"ts\":")
        out.text.append(integer: max(start, 0))
        extra(&out.text)
        out.text.append(raw: ",\"args\":{")
        args(&out.text)
        out.text.append(byte: UInt8(ascii: "}"))
        out.end()
    }

    /// Seconds as whole microseconds, the unit of `ts` and `dur` (and the resolution of
    /// `--events`, so a trace converted from an events file is the trace written live).
    private static func micros(_ seconds: Double) -> Int64 {
        let value = (seconds * 1e6).rounded()
        return value.isFinite && abs(value) < 9e18 ? Int64(value) : 0
    }
}
