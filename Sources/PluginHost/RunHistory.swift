/// A run read back from its events, as the HTML report shows it: every task attempt on its worker
/// slot, how each task ended, worker starts and deaths, hosts that failed.
///
/// Built one event at a time (``record(_:)``), holding a few numbers per attempt (a million
/// events take well under a second and a few tens of MB).
public struct RunHistory {
    /// How an attempt ended: a task outcome, or lost (its worker died or it expired, and the task
    /// went back to the queue).
    public enum AttemptEnd: UInt8, CaseIterable, Sendable {
        case done, failed, expired, cancelled, skipped, lost

        init(_ outcome: TaskOutcome) {
            switch outcome {
            case .done: self = .done
            case .failed: self = .failed
            case .expired: self = .expired
            case .cancelled: self = .cancelled
            case .skipped: self = .skipped
            }
        }

        /// The word the report uses.
        public var name: String { self == .lost ? "lost" : String(describing: self) }
    }

    /// Attempts, column by column (same index in each).
    public struct Attempts {
        /// Start and end, seconds since the run started.
        public var start: [Double] = []
        public var end: [Double] = []
        /// The worker slot (-1 when the worker name has no slot).
        public var slot: [Int32] = []
        public var outcome: [AttemptEnd] = []
        /// Index into ``RunHistory/kinds``.
        public var kind: [UInt16] = []
        /// The task's id.
        public var task: [UInt64] = []
        /// The attempt number (1 for the first).
        public var number: [Int32] = []
        /// Index into ``RunHistory/workers``.
        public var worker: [Int32] = []

        public var count: Int { start.count }
    }

    /// A task that ended.
    public struct EndedTask {
        /// How it ended: id, kind, name, outcome, message, attempts, parent.
        public var result: TaskResult
        /// Seconds from the first attempt's start to the end (0 if it never started).
        public var elapsed: Double
        /// When it ended, seconds since the run started.
        public var end: Double
    }

    /// A worker end that was not planned (see ``WorkerEndReason``), or a spawn failure.
    public struct Death {
        public var time: Double
        public var worker: String
        public var slot: Int
        public var reason: String
    }

    /// A host event of `--hosts` runs: down (left alone a while) or dropped.
    public struct HostTrouble {
        public var time: Double
        public var host: String
        public var dropped: Bool
        public var message: String
    }

    /// Kind names, in order of first appearance.
    public private(set) var kinds: [String] = []
    /// Worker names, in order of first appearance.
    public private(set) var workers: [String] = []
    public private(set) var attempts = Attempts()
    public private(set) var tasks: [EndedTask] = []
    public private(set) var deaths: [Death] = []
    public private(set) var plannedWorkerEnds = 0
    public private(set) var workersStarted = 0
    public private(set) var spawnFailures: [(time: Double, kind: String, message: String)] = []
    public private(set) var hostTrouble: [HostTrouble] = []
    public private(set) var feedbackMessages = 0
    /// The last event's time.
    public private(set) var duration: Double = 0
    /// Events read.
    public private(set) var eventCount = 0

    private struct OpenTask {
        var kind: UInt16
        var name: String?
        var parent: UInt64?
        var firstStart: Double?
        var attempts = 0
        var openAttempt: Int?
    }

    private var open: [UInt64: OpenTask] = [:]
    private var kindIndex: [String: UInt16] = [:]
    private var workerIndex: [String: Int32] = [:]

    /// An empty history.
    public init() {}

    /// Adds one event.
    public mutating func record(_ event: HostEvent) {
        eventCount += 1
        duration = max(duration, event.time)
        let time = event.time
        switch event.kind {
        case .taskQueued(let task, let kind, let name, let parent):
            open[task] = OpenTask(kind: index(ofKind: kind), name: name, parent: parent)
        case .taskStarted(let task, let worker, let attempt):
            var record = open[task] ?? OpenTask(kind: index(ofKind: "?"))
            if record.firstStart == nil { record.firstStart = time }
            record.attempts += 1
            record.openAttempt = attempts.count
            attempts.start.append(time)
            attempts.end.append(time)
            attempts.slot.append(Int32(WorkerName.slot(of: worker) ?? -1))
            attempts.outcome.append(.lost)
            attempts.kind.append(record.kind)
            attempts.task.append(task)
            attempts.number.append(Int32(clamping: attempt))
            attempts.worker.append(index(ofWorker: worker))
            open[task] = record
        case .taskRetried(let task, _):
            guard var record = open[task], let attempt = record.openAttempt else { return }
            attempts.end[attempt] = time
            attempts.outcome[attempt] = .lost
            record.openAttempt = nil
            open[task] = record
        case .taskEnded(let task, let kind, let outcome, let message):
            let record = open.removeValue(forKey: task) ?? OpenTask(kind: index(ofKind: kind))
            if let attempt = record.openAttempt {
                attempts.end[attempt] = time
                attempts.outcome[attempt] = AttemptEnd(outcome)
            }
            let result = TaskResult(id: task, kind: kinds[Int(record.kind)], name: record.name, outcome: outcome, message: message,
                                    attempts: record.attempts, parent: record.parent)
            tasks.append(EndedTask(result: result, elapsed: record.firstStart.map { time - $0 } ?? 0, end: time))
        case .workerStarted(let worker, _, _):
            _ = index(ofWorker: worker)
            workersStarted += 1
        case .workerEnded(let worker, let reason):
            if WorkerEndReason.isPlanned(reason) {
                plannedWorkerEnds += 1
            } else {
                deaths.append(Death(time: time, worker: worker, slot: WorkerName.slot(of: worker) ?? -1, reason: reason))
            }
        case .spawnFailed(let kind, let message):
            spawnFailures.append((time, kind, message))
        case .hostDown(let host, let message, _):
            hostTrouble.append(HostTrouble(time: time, host: host, dropped: false, message: message))
        case .hostDropped(let host, let message):
            hostTrouble.append(HostTrouble(time: time, host: host, dropped: true, message: message))
        case .feedback:
            feedbackMessages += 1
        case .log:
            break
        }
    }

    /// Tasks queued or started that never ended (a run cut short): their open attempts end at
    /// the last event and stay `lost`.
    public var unfinishedTasks: Int { open.count }

    /// The history of a run cut short: attempts still open end at the last event (as lost).
    public func closingOpenAttempts() -> RunHistory {
        var copy = self
        for record in open.values {
            if let attempt = record.openAttempt { copy.attempts.end[attempt] = duration }
        }
        return copy
    }

    /// The highest worker slot seen, plus one (the timeline's lanes).
    public var laneCount: Int {
        Int(max(attempts.slot.max() ?? -1, Int32(deaths.map(\.slot).max() ?? -1))) + 1
    }

    private mutating func index(ofKind kind: String) -> UInt16 {
        if let index = kindIndex[kind] { return index }
        let index = UInt16(clamping: kinds.count)
        kinds.append(kind)
        kindIndex[kind] = index
        return index
    }

    private mutating func index(ofWorker worker: String) -> Int32 {
        if let index = workerIndex[worker] { return index }
        let index = Int32(workers.count)
        workers.append(worker)
        workerIndex[worker] = index
        return index
    }
}
