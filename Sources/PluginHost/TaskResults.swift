import DequeModule
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// `--results DIR`: each task attempt's worker output in a file of its own, and every task's outcome.
///
/// - `DIR/KIND/TASK/attempt-N.stderr`: what the worker wrote to stderr (and what the plugin
///   printed to stdout, which the worker sends to stderr) while attempt N of the task was its
///   task in flight. `TASK` is the plugin's task name (or `task-ID`) made safe
///   (``ResultsPath/component(_:)``); a second task of the same name gets `~ID` appended.
/// - `DIR/KIND/TASK/outcome`: the outcome, the attempts and the message, for every task that
///   has a directory (it printed something).
/// - `DIR/tasks.jsonl`: one line per task as it ends (task, kind, name, outcome, attempts,
///   message, and its directory when it has one), so a quiet task costs no file of its own.
/// - `DIR/workers/WORKER.stderr`: what a worker wrote before its first task.
///
/// Attribution: a worker's stderr pipe is shared by the tasks a persistent worker runs, and it
/// is read on its own thread, apart from the protocol. A line goes to the attempt that is the
/// worker's task in flight when the host forwards it; before the host handles an answer it
/// forwards everything the worker had written by then (the worker flushes stdout before it
/// answers: ``HostConfiguration/drainsWorkerStderrBeforeAnswers``), so what a task prints before
/// its answer is its own. After an attempt ended (until the worker's next task starts) its lines
/// still go to that attempt, so the last words of a worker that died go with the task that
/// killed it. Only output a plugin writes after answering (from a thread of its own) can land
/// in the worker's next task.
public final class TaskResults: Sendable {
    private struct Task {
        var kind: String
        var name: String?
        var directory: String?
        var attempts = 0
        /// How the task ended, once it did (kept while its worker may still print).
        var ended: Ending?
    }

    /// A task's end, for its outcome file.
    private struct Ending {
        var outcome: TaskOutcome
        var attempts: Int
        var message: String?

        /// The outcome file's text.
        var summary: String { "\(outcome.rawValue)\nattempts: \(attempts)\n" + (message.map { $0 + "\n" } ?? "") }
    }

    private struct Worker {
        var task: UInt64?
        var attempt = 0
        var file: UnsafeMutablePointer<FILE>?
        var path: String?
    }

    /// The state of the files, owned by one thread at a time.
    private final class Files: @unchecked Sendable {
        private var state: State
        init(state: consuming State) { self.state = state }
        func withState<T>(_ body: (inout State) -> T) -> T { body(&state) }
    }

    private struct State {
        var tasks = TaskTable<Task>()
        var workers: [String: Worker] = [:]
        var usedNames: Set<String> = []
        /// Workers that ended, oldest first: their late lines still find their attempt.
        var endedWorkers: Deque<String> = []
        var failure: String?
        var index: UnsafeMutablePointer<FILE>?
        /// Lines of `tasks.jsonl` not yet written: a batch of events goes in one write.
        var indexText = JSONText(capacity: 1 << 16)
    }

    /// What the handoff's thread takes in: events and worker lines, in the order they came.
    private enum Item: Sendable {
        case event(HostEvent)
        case line(String)
    }

    /// The directory written.
    public let directory: String
    /// The files' state, touched by the handoff's thread alone (and by ``finish()`` after it ended).
    private let files: Files
    /// Files are written on a thread of their own: the run's lock is held only for a queue append.
    private let handoff: OrderedHandoff<Item>

    /// Creates `directory` (and its parents) when missing, and its `tasks.jsonl`.
    public init(directory: String) throws(HostError) {
        self.directory = directory
        guard ResultsPath.makeDirectories(directory) else {
            throw .usage("--results \(directory): cannot create the directory: \(Errno(rawValue: errno))")
        }
        guard let index = fopen(directory + "/tasks.jsonl", "we") else {
            throw .usage("--results \(directory): cannot write in the directory: \(Errno(rawValue: errno))")
        }
        var state = State()
        state.index = index
        let shared = Files(state: state)
        files = shared
        handoff = OrderedHandoff { [directory] items in
            for item in items {
                switch item {
                case .event(let event): Self.record(event, directory: directory, shared)
                case .line(let line): Self.workerLine(line, directory: directory, shared)
                }
            }
            shared.withState { Self.writeIndex(&$0) }
        }
    }

    /// Ended workers whose late lines are still attributed.
    static let endedWorkersKept = 256

    /// The event categories the results need.
    public static let categories: HostEventCategories = [.taskProgress, .taskEnds, .taskFailures, .workers, .taskQueuedLate]

    /// Follows the run: which task each worker is on, and how each task ends.
    public func record(_ event: HostEvent) {
        handoff.send(.event(event))
    }

    private static func record(_ event: HostEvent, directory: String, _ shared: Files) {
        shared.withState { state in
            switch event.kind {
            case .taskQueued(let task, let kind, let name, _):
                state.tasks[task] = Task(kind: kind, name: name)
            case .taskStarted(let task, let worker, let attempt):
                var record = state.workers[worker] ?? Worker()
                Self.close(&record)
                if let previous = record.task { Self.forgetIfEnded(previous, &state) }
                record.task = task
                record.attempt = attempt
                state.workers[worker] = record
                state.tasks[task]?.attempts = attempt
            case .taskEnded(let task, let kind, let outcome, let message):
                var record = state.tasks.removeValue(forKey: task) ?? Task(kind: kind)
                let attempts = record.attempts
                let ending = Ending(outcome: outcome, attempts: attempts, message: message)
                var line = state.indexText
                state.indexText = JSONText()  // (Moved out and back: appended in place.)
                line.append(byte: UInt8(ascii: "{"))
                line.append(key: "task"); line.append(integer: task)
                line.append(key: "kind"); line.append(string: record.kind)
                if let name = record.name { line.append(key: "name"); line.append(string: name) }
                line.append(key: "outcome"); line.append(string: outcome.rawValue)
                line.append(key: "attempts"); line.append(integer: Int64(attempts))
                if let message { line.append(key: "message"); line.append(string: message) }
                if let taskDirectory = record.directory {
                    line.append(key: "directory"); line.append(string: taskDirectory)
                    Self.write(ending.summary, to: directory + "/" + taskDirectory + "/outcome", &state)
                }
                line.append(byte: UInt8(ascii: "}"))
                line.append(byte: 10)
                state.indexText = line
                if state.indexText.bytes.count >= 1 << 16 { Self.writeIndex(&state) }
                // Kept while a worker may still print for it (its last attempt's trailing lines).
                if state.workers.values.contains(where: { $0.task == task }) {
                    record.ended = ending
                    state.tasks[task] = record
                }
            case .workerEnded(let worker, _):
                // Its stderr may still be read after this (the pump drains the pipe on its own
                // thread): the record stays, its file closed, for the last few workers.
                guard var record = state.workers[worker] else { break }
                Self.close(&record)
                state.workers[worker] = record
                state.endedWorkers.append(worker)
                if state.endedWorkers.count > Self.endedWorkersKept, let oldest = state.endedWorkers.popFirst(),
                   let gone = state.workers.removeValue(forKey: oldest), let task = gone.task {
                    Self.forgetIfEnded(task, &state)
                }
            default:
                break
            }
        }
    }

    /// Takes one worker output line as the host forwards it, `[WORKER] TEXT`; false (and nothing
    /// written) for a line of another shape (a host warning).
    @discardableResult
    public func workerLine(_ prefixed: String) -> Bool {
        guard prefixed.hasPrefix("["), prefixed.contains("]") else { return false }
        handoff.send(.line(prefixed))
        return true
    }

    private static func workerLine(_ prefixed: String, directory: String, _ shared: Files) {
        guard let close = prefixed.firstIndex(of: "]") else { return }
        let worker = String(prefixed[prefixed.index(after: prefixed.startIndex)..<close])
        var text = prefixed[prefixed.index(after: close)...]
        if text.hasPrefix(" ") { text = text.dropFirst() }
        shared.withState { state in
            var record = state.workers[worker] ?? Worker()
            if record.file == nil {
                let path = Self.path(for: worker, record, directory: directory, &state)
                record.path = path
                record.file = fopen(path, "ae")
                if record.file == nil { state.failure = state.failure ?? "\(path): \(Errno(rawValue: errno))" }
            }
            if let file = record.file, fputs(String(text) + "\n", file) == EOF {
                state.failure = state.failure ?? "\(record.path ?? worker): \(Errno(rawValue: errno))"
            }
            if state.endedWorkers.contains(worker) { Self.close(&record) }
            state.workers[worker] = record
        }
    }

    /// Closes every file. Returns nil when everything was written, else one line naming the
    /// first file that failed.
    public func finish() -> String? {
        handoff.finish()
        return files.withState { state in
            for key in Array(state.workers.keys) { Self.close(&state.workers[key]!) }
            Self.writeIndex(&state)
            if let index = state.index, fclose(index) != 0 { state.failure = state.failure ?? "tasks.jsonl: \(Errno(rawValue: errno))" }
            state.index = nil
            return state.failure.map { "--results \(directory): write failed: \($0)" }
        }
    }

    /// The file of the worker's current (or last) attempt, its task's directory made when needed.
    private static func path(for worker: String, _ record: Worker, directory: String, _ state: inout State) -> String {
        guard let task = record.task, var info = state.tasks[task] else {
            _ = ResultsPath.makeDirectories(directory + "/workers")
            return directory + "/workers/" + ResultsPath.component(worker) + ".stderr"
        }
        if info.directory == nil {
            let kind = ResultsPath.component(info.kind)
            var name = ResultsPath.component(info.name ?? "task-\(task)")
            if state.usedNames.contains(kind + "/" + name) { name = ResultsPath.component(name + "~\(task)") }
            state.usedNames.insert(kind + "/" + name)
            info.directory = kind + "/" + name
            if !ResultsPath.makeDirectories(directory + "/" + info.directory!) {
                state.failure = state.failure ?? "\(directory)/\(info.directory!): \(Errno(rawValue: errno))"
            }
            if let ending = info.ended { Self.write(ending.summary, to: directory + "/" + info.directory! + "/outcome", &state) }
            state.tasks[task] = info
        }
        return directory + "/" + info.directory! + "/attempt-\(record.attempt).stderr"
    }

    /// Writes the lines of `tasks.jsonl` gathered so far.
    private static func writeIndex(_ state: inout State) {
        let count = state.indexText.bytes.count
        guard count > 0, let index = state.index else { return }
        if state.indexText.bytes.withUnsafeBufferPointer({ fwrite($0.baseAddress, 1, count, index) }) != count {
            state.failure = state.failure ?? "tasks.jsonl: \(Errno(rawValue: errno))"
        }
        state.indexText.removeAll()
    }

    private static func forgetIfEnded(_ task: UInt64, _ state: inout State) {
        if state.tasks[task]?.ended != nil { state.tasks[task] = nil }
    }

    private static func close(_ record: inout Worker) {
        if let file = record.file { fclose(file) }
        record.file = nil
    }

    private static func write(_ text: String, to path: String, _ state: inout State) {
        guard let file = fopen(path, "we") else {
            state.failure = state.failure ?? "\(path): \(Errno(rawValue: errno))"
            return
        }
        if fputs(text, file) == EOF || fclose(file) != 0 { state.failure = state.failure ?? "\(path): \(Errno(rawValue: errno))" }
    }
}
