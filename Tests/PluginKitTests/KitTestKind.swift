// Task kinds the export tests drive through the C descriptor in this process.
import PluginKit
import Synchronization

/// A small task kind driven in this process through the C descriptor.
///
/// Tasks are words. A fresh worker's request is `fresh:<word>`, an old one's `old<n>:<word>`
/// where `n` (the competence) counts the responses the worker gave. The worker uppercases.
struct KitTestKind: TaskKind {
    typealias Task = String
    typealias Request = String
    typealias Response = String
    typealias Competence = UInt32
    typealias Worker = KitTestWorker

    static let name = "kit-test"
    static let version = "0.1.0"
    static let summary = "PluginKit's in-process test kind"
    static let usage = "kit-test [--fail] WORD..."
    static let defaultPolicy = WorkerPolicy.persistent

    let host: MasterHost<KitTestKind>
    let policy: WorkerPolicy
    var feedbackSeen: [String] = []
    let words: [String]

    /// "ph.journal/1": refused with the word no-journal; the identity is the words.
    func journalRefusal() -> String? { words.contains("no-journal") ? "kit-test was told no-journal" : nil }
    func journalIdentity() -> [UInt8] { Array(words.joined(separator: " ").utf8) }

    init(arguments: [String], context: OpenContext<KitTestKind>) throws {
        if arguments.contains("--fail") {
            throw UsageError("--fail was given")
        }
        host = context.host
        policy = context.policy
        words = arguments
        for word in arguments {
            switch word {
            case "tiny": context.host.push(word, priority: 1, timeout: .nanoseconds(1))
            case "untimed": context.host.push(word, priority: 1)
            default: context.host.push(word, priority: 1, timeout: .milliseconds(1500))
            }
        }
        context.host.log("opened with \(arguments.count) words and \(context.maxWorkers) workers")
    }

    func request(for task: String, worker: WorkerStatus<UInt32>) throws -> String? {
        switch task {
        case "obsolete": return nil
        case "unmarshallable": throw UsageError("cannot marshal this task")
        default:
            switch worker.state {
            case .fresh: return "fresh:" + task
            case .old(let served): return "old\(served):" + task
            }
        }
    }

    mutating func useResponse(_ response: String, for task: String, worker: WorkerStatus<UInt32>)
        -> ResponseDecision<UInt32, String>
    {
        let served = (worker.competence ?? 0) + 1
        if response.hasSuffix("FAIL") {
            return .end(.failed("the worker said FAIL"))
        }
        if response.hasSuffix("FOLLOW") {
            host.push("pushed-by-use-response")
            return ResponseDecision(worker: .stay(served), followUps: [FollowUp("follow-up", priority: -1)])
        }
        return policy == .persistent ? .stay(served) : .end()
    }

    mutating func marshalError(_ message: String, task: String?) -> TaskVerdict? {
        task == "rescue" ? .done : nil
    }

    mutating func taskLost(_ task: String?, reason: LossReason, message: String, willRetry: Bool) -> TaskVerdict? {
        reason == .cancelled ? .failed("cancelled: \(task ?? "no task") \(message)") : nil
    }

    mutating func feedback(_ feedback: String, from worker: String) {
        feedbackSeen.append("\(worker): \(feedback)")
        host.broadcast("seen \(feedback)")
    }

    mutating func finish(summary: RunSummary) -> KindReport {
        KindReport("kit-test: \(summary.done) done; feedback \(feedbackSeen)", exitStatus: 3)
    }

    func name(of task: String) -> String? {
        if task == "push-from-name" {
            // The ABI does not allow push_task here: PluginKit drops it and logs an error.
            host.push("dropped")
        }
        return "task " + task
    }

    mutating func pull(upTo max: Int) -> PullResult {
        host.push("pulled")
        return .exhausted
    }

    func taskMatch(_ task: String, worker: WorkerStatus<UInt32>) -> Bool {
        task != "never-matches"
    }
}

struct KitTestWorker: TaskWorker {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused to perform" }
    }

    /// The names of the workers whose finish hook ran, in order.
    static let finished = Mutex<[String]>([])

    let name: String
    var lastBroadcast = "none"

    init(name: String) throws {
        if name.hasSuffix(":broken") {
            throw Refused()
        }
        self.name = name
    }

    mutating func perform(_ request: String, context: borrowing PerformContext<String>) throws -> String {
        if request.hasSuffix("throw") {
            throw Refused()
        }
        if request.hasSuffix("taskfail") {
            throw TaskFailure("no answer to '\(request)'")
        }
        if request.hasSuffix("show-broadcast") {
            return lastBroadcast
        }
        if request.hasSuffix("feedback") {
            context.feedback("one")
            context.feedback("two")
        }
        return request.uppercased()
    }

    mutating func receiveBroadcast(_ feedback: String) {
        lastBroadcast = feedback
    }

    mutating func finish() {
        Self.finished.withLock { $0.append(name) }
    }
}

/// Another kind, to check that a library exports only one.
struct OtherKind: TaskKind {
    typealias Task = String
    typealias Request = String
    typealias Response = String
    typealias Competence = String
    typealias Worker = KitTestWorker
    static let name = "other"
    static let version = "1"
    static let summary = "another kind"
    init(arguments: [String], context: OpenContext<OtherKind>) throws {}
    func request(for task: String, worker: WorkerStatus<String>) throws -> String? { task }
    mutating func useResponse(_ response: String, for task: String, worker: WorkerStatus<String>)
        -> ResponseDecision<String, String> { .end() }
}

/// A kind whose name the ABI does not allow.
struct BadNameKind: TaskKind {
    typealias Task = String
    typealias Request = String
    typealias Response = String
    typealias Competence = String
    typealias Worker = KitTestWorker
    static let name = "Bad Name"
    static let version = "1"
    static let summary = "a bad name"
    init(arguments: [String], context: OpenContext<BadNameKind>) throws {}
    func request(for task: String, worker: WorkerStatus<String>) throws -> String? { task }
    mutating func useResponse(_ response: String, for task: String, worker: WorkerStatus<String>)
        -> ResponseDecision<String, String> { .end() }
}
