// echo-swift: the PluginKit demo task kind, also used to benchmark round trips.
//
//     plugin-host run echo-swift [--count N] [--payload TEXT] [WORD...]
//
// Queues one task per WORD, or N tasks (default 1) carrying TEXT (default "hello"). A worker
// answers each with the text uppercased and its pid. A fresh worker's request also carries the
// shared "setup" state; under the persistent policy the response keeps the worker alive with
// that setup as its competence, so later requests to it omit the setup (Coq's `par:`). The
// payload "feedback" makes the worker stream two feedback messages before answering; the payload
// "taskfail" makes it throw TaskFailure("task N failed as asked by <pid>"): the task fails and the
// worker is kept; a payload starting "print:" makes it `print` the rest (Swift's print, no flush)
// before answering; "alloc:MB" makes it allocate and write MB MiB of Swift arrays before answering.
//
// With ECHO_SWIFT_FINISH_TRACE=DIR in its environment, a worker whose finish hook runs (the ABI's
// worker_fini: the master ended it cleanly) writes DIR/<worker name> holding the number of
// requests it performed; a worker that is killed writes nothing.

import PluginKit

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("plugin_host_entry")
public func pluginHostEntry(_ major: UInt32, _ minor: UInt32, _ out: UnsafeMutablePointer<PluginDescriptor>?) -> Int32 {
    PluginExport.fill(out, hostMajor: major, hostMinor: minor, kind: EchoKind.self)
}

/// Marks this library as a test fixture: `plugin-host list` leaves it out of a build directory.
@_cdecl("plugin_host_test_fixture")
public func pluginHostTestFixture() {}

/// One text to echo.
struct EchoTask: BinaryCodable, Hashable {
    /// The task's position in the run, starting at 0.
    var index: Int
    /// The text to echo.
    var text: String

    func encode(to writer: inout BinaryWriter) {
        writer.write(index)
        writer.write(text)
    }

    init(index: Int, text: String) {
        self.index = index
        self.text = text
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        index = try reader.read()
        text = try reader.read()
    }
}

/// What a worker receives: the task, plus the setup state when the worker does not hold it.
struct EchoRequest: BinaryCodable, Hashable {
    /// The shared state a fresh worker needs; `nil` for a worker that already holds it.
    var setup: String?
    /// The task's index.
    var index: Int
    /// The text to echo.
    var text: String

    func encode(to writer: inout BinaryWriter) {
        writer.write(setup)
        writer.write(index)
        writer.write(text)
    }

    init(setup: String?, index: Int, text: String) {
        self.setup = setup
        self.index = index
        self.text = text
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        setup = try reader.read()
        index = try reader.read()
        text = try reader.read()
    }
}

/// What a worker answers.
struct EchoResponse: BinaryCodable, Hashable {
    /// The task's index.
    var index: Int
    /// The text, uppercased.
    var text: String
    /// The worker's process id.
    var pid: Int32

    func encode(to writer: inout BinaryWriter) {
        writer.write(index)
        writer.write(text)
        writer.write(pid)
    }

    init(index: Int, text: String, pid: Int32) {
        self.index = index
        self.text = text
        self.pid = pid
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        index = try reader.read()
        text = try reader.read()
        pid = try reader.read()
    }
}

/// The master side of echo-swift.
struct EchoKind: TaskKind {
    typealias Task = EchoTask
    typealias Request = EchoRequest
    typealias Response = EchoResponse
    /// The setup state the worker holds.
    typealias Competence = String
    typealias Feedback = String
    typealias Worker = EchoWorker

    static let name = "echo-swift"
    static let version = "1.0.0"
    static let summary = "Echoes text back uppercased (PluginKit demo and round-trip benchmark)"
    static let usage = """
        echo-swift [--count N] [--payload TEXT] [WORD...]
          --count N       queue N tasks carrying TEXT (default 1; ignored when WORDs are given)
          --payload TEXT  the text of the --count tasks (default "hello"); "feedback" makes each
                          worker stream two feedback messages before answering
          WORD...         queue one task per word instead
        """
    static let defaultPolicy = WorkerPolicy.persistent

    /// The state a fresh worker must receive before it can answer; old workers hold it, and it
    /// is their competence. Short enough (at most 15 UTF-8 bytes) to be a small string, which
    /// Swift stores inline: decoding it on every request allocates nothing.
    static let setup = "echo-setup-v1"

    /// Tasks queued at open in --count mode; the rest come through `pull`.
    static let initialBatch = 1024

    private let host: MasterHost<EchoKind>
    private let policy: WorkerPolicy
    private let payload: String
    private let count: Int
    private var nextIndex = 0
    private var feedbackCount = 0
    private var mismatches = 0

    init(arguments: [String], context: OpenContext<EchoKind>) throws {
        var count: Int?
        var payload = "hello"
        var words: [String] = []
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--count":
                guard let value = remaining.popFirst(), let number = Int(value), number >= 0 else {
                    throw UsageError("--count needs a non-negative number")
                }
                count = number
            case "--payload":
                guard let value = remaining.popFirst() else { throw UsageError("--payload needs a text") }
                payload = value
            case "--":
                words.append(contentsOf: remaining)
                remaining = []
            case let option where option.hasPrefix("--"):
                throw UsageError("unknown option \(option)")
            default:
                words.append(argument)
            }
        }
        if count != nil, !words.isEmpty {
            throw UsageError("give either --count or WORDs, not both")
        }
        host = context.host
        policy = context.policy
        self.payload = payload
        host.setProgressTotal(words.isEmpty ? count ?? 1 : words.count, unit: "echoes")
        if words.isEmpty {
            self.count = count ?? 1
            _ = pull(upTo: Self.initialBatch)
        } else {
            self.count = words.count
            for (index, word) in words.enumerated() {
                host.push(EchoTask(index: index, text: word))
            }
            nextIndex = words.count
        }
    }

    mutating func pull(upTo max: Int) -> PullResult {
        let end = nextIndex + Swift.min(max, count - nextIndex)
        while nextIndex < end {
            host.push(EchoTask(index: nextIndex, text: payload))
            nextIndex += 1
        }
        return nextIndex < count ? .moreMayCome : .exhausted
    }

    func request(for task: EchoTask, worker: WorkerStatus<String>) throws -> EchoRequest? {
        // An old worker already holds the setup: do not ship it again.
        let setup = worker.competence == Self.setup ? nil : Self.setup
        return EchoRequest(setup: setup, index: task.index, text: task.text)
    }

    mutating func useResponse(_ response: EchoResponse, for task: EchoTask, worker: WorkerStatus<String>)
        -> ResponseDecision<String, EchoTask>
    {
        let outcome: TaskVerdict
        if response.index != task.index {
            mismatches += 1
            outcome = .failed("task \(task.index) was answered for task \(response.index)")
        } else if !Self.isUppercased(response.text, of: task.text) {
            mismatches += 1
            outcome = .failed("task \(task.index): expected \(task.text) uppercased, got \(response.text)")
        } else {
            outcome = .done
            host.advanceProgress(by: 1)
        }
        return policy == .persistent ? .stay(Self.setup, outcome: outcome) : .end(outcome)
    }

    mutating func feedback(_ feedback: String, from worker: String) {
        feedbackCount += 1
    }

    mutating func finish(summary: RunSummary) -> KindReport {
        KindReport(
            "echo-swift: \(summary.done) done, \(summary.failed) failed, \(feedbackCount) feedback messages, "
                + "\(mismatches) mismatched responses")
    }

    func name(of task: EchoTask) -> String? {
        "echo-swift#\(task.index)"
    }

    /// Whether `answer` is `text` uppercased; compares ASCII in place, without allocating.
    static func isUppercased(_ answer: String, of text: String) -> Bool {
        var answerBytes = answer.utf8.makeIterator()
        for byte in text.utf8 {
            guard byte < 0x80 else { return answer == text.uppercased() }
            let upper = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 0x20 : byte
            guard answerBytes.next() == upper else { return false }
        }
        return answerBytes.next() == nil
    }
}

/// The worker side of echo-swift.
struct EchoWorker: TaskWorker {
    typealias Feedback = String

    /// Thrown when an old worker's request arrives at a worker that never received the setup.
    struct MissingSetup: Error, CustomStringConvertible {
        var description: String { "the request omits the setup but this worker never received it" }
    }

    private let pid: Int32
    private let name: String
    private var setup: String?
    private var performed = 0

    init(name: String) {
        pid = getpid()
        self.name = name
    }

    mutating func perform(_ request: EchoRequest, context: borrowing PerformContext<String>) throws -> EchoResponse {
        if let setup = request.setup {
            self.setup = setup
        } else if setup == nil {
            throw MissingSetup()
        }
        if request.text == "feedback" {
            context.feedback("feedback 1 of 2 for task \(request.index)")
            context.feedback("feedback 2 of 2 for task \(request.index)")
        }
        performed += 1
        if request.text.hasPrefix("print:") {
            print(request.text.dropFirst(6))  // As a plugin author would: the worker must not lose it.
        }
        if request.text.hasPrefix("alloc:"), let megabytes = Int(request.text.dropFirst(6)) {
            // Swift arrays of 1 MiB, every page written: past a memory limit, Swift's allocator
            // fails and the runtime traps (as any Swift plugin running out of memory would).
            var blocks: [[UInt8]] = []
            for index in 0..<megabytes { blocks.append([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1 << 20)) }
            // (Read back, so an optimizer cannot drop the writes.)
            if blocks.reduce(0, { $0 &+ Int($1[$1.count - 1]) }) < 0 { throw MissingSetup() }
            return EchoResponse(index: request.index, text: request.text.uppercased(), pid: pid)
        }
        if request.text == "taskfail" {
            throw TaskFailure("task \(request.index) failed as asked by \(pid)")
        }
        return EchoResponse(index: request.index, text: request.text.uppercased(), pid: pid)
    }

    /// Leaves the trace described at the top of this file.
    func finish() {
        guard let directory = getenv("ECHO_SWIFT_FINISH_TRACE") else { return }
        let path = String(cString: directory) + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        let text = "\(performed)\n"
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
    }
}
