import PluginABI
import PluginKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Binary format

@Suite("PluginKit binary format")
struct PluginKitBinaryFormatTests {
    @Test func integersRoundTrip() throws {
        try expectRoundTrips([Int.min, -1, 0, 1, 42, Int.max])
        try expectRoundTrips([Int8.min, -1, 0, Int8.max])
        try expectRoundTrips([Int16.min, -1, 0, Int16.max])
        try expectRoundTrips([Int32.min, -1, 0, Int32.max])
        try expectRoundTrips([Int64.min, -1, 0, Int64.max])
        try expectRoundTrips([UInt8.min, 0x7F, 0x80, UInt8.max])
        try expectRoundTrips([UInt16.min, 0x1234, UInt16.max])
        try expectRoundTrips([UInt32.min, 0x0102_0304, UInt32.max])
        try expectRoundTrips([UInt64.min, 0x0102_0304_0506_0708, UInt64.max])
        try expectRoundTrips([UInt.min, 7, UInt.max])
    }

    @Test func floatingPointRoundTripsBitForBit() throws {
        let doubles: [Double] = [0, -0.0, 1.5, -.pi, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        try expectRoundTrips(doubles)
        let floats: [Float] = [0, -0.0, 3.25, .infinity, .leastNormalMagnitude]
        try expectRoundTrips(floats)
        let nan = Double(bitPattern: 0x7FF8_0000_0000_1234)
        let decodedNaN = try Double(binaryEncoded: nan.binaryEncoded())
        #expect(decodedNaN.bitPattern == nan.bitPattern)
    }

    @Test func boolsStringsBytesArraysAndOptionalsRoundTrip() throws {
        try expectRoundTrips([true, false])
        try expectRoundTrips(["", "a", "héllo wörld", "emoji 🧪", "nul\u{0}inside", String(repeating: "x", count: 300)])
        try expectRoundTrips([[UInt8](), [0], [0, 1, 2, 255], [UInt8](repeating: 7, count: 1000)])
        try expectRoundTrips([[String](), ["a"], ["a", "", "b"]])
        try expectRoundTrips([[[Int]](), [[]], [[1, 2], [], [3]]])
        try expectRoundTrips([Int?.none, 5])
        try expectRoundTrips([String?.none, "x"])
        try expectRoundTrips([Int??.none, .some(.none), .some(.some(3))])
        try expectRoundTrips([[Int?](), [nil, 1, nil]])
        try expectRoundTrips([Sample.example, Sample(id: -1, name: "", tags: [], weight: nil, flags: [])])
    }

    @Test func layoutIsLittleEndianWithVarintLengths() {
        #expect(UInt32(0x0102_0304).binaryEncoded() == [4, 3, 2, 1])
        #expect(Int16(-2).binaryEncoded() == [0xFE, 0xFF])
        #expect(Int(1).binaryEncoded() == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(true.binaryEncoded() == [1])
        #expect(Double(1).binaryEncoded() == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect("hé".binaryEncoded() == [3, 0x68, 0xC3, 0xA9])
        #expect([UInt8](repeating: 9, count: 300).binaryEncoded().prefix(3) == [0xAC, 0x02, 9])
        #expect([Int32(1), 2].binaryEncoded() == [2, 1, 0, 0, 0, 2, 0, 0, 0])
        #expect(Int32?.none.binaryEncoded() == [0])
        #expect(Int32?.some(1).binaryEncoded() == [1, 1, 0, 0, 0])

        var writer = BinaryWriter()
        for value: UInt64 in [0, 127, 128, 16_383, 16_384, .max] {
            writer.writeVarint(value)
        }
        #expect(writer.bytes == [0, 0x7F, 0x80, 0x01, 0xFF, 0x7F, 0x80, 0x80, 0x01]
            + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test func malformedInputThrowsTheRightReason() {
        expectDecodingError(String.self, [5, 0x61], .lengthOutOfRange)
        expectDecodingError(String.self, [2, 0xC3, 0x28], .invalidUTF8)
        expectDecodingError(String.self, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .lengthOutOfRange)
        expectDecodingError([Int].self, [0x80, 0x80, 0x80, 0x80, 0x01], .lengthOutOfRange)
        expectDecodingError([UInt8].self, [0x80, 0x00], .malformedVarint)
        expectDecodingError([UInt8].self, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], .malformedVarint)
        expectDecodingError([UInt8].self, [0x80, 0x80], .truncated)
        expectDecodingError(Bool.self, [2], .invalidValue)
        expectDecodingError(Int?.self, [7], .invalidValue)
        expectDecodingError(UInt32.self, [1, 2, 3], .truncated)
        expectDecodingError(UInt8.self, [1, 2], .trailingBytes)
        expectDecodingError(Int64.self, [], .truncated)
    }

    @Test func errorsSayWhatAndWhere() throws {
        let error = try #require(throws: BinaryDecodingError.self) { try UInt64(binaryEncoded: [1, 2, 3]) }
        #expect(error.offset == 0)
        #expect(error.description == "truncated input at byte 0: a UInt64 needs 8 bytes, 3 left")
        let utf8 = try #require(throws: BinaryDecodingError.self) { try [String](binaryEncoded: [2, 1, 0x41, 1, 0xFF]) }
        #expect(utf8.offset == 4)
        #expect(utf8.description.contains("invalid UTF-8"))
    }

    @Test func everyTruncationOfAValidEncodingThrows() throws {
        func expectEveryPrefixThrows<T: BinaryCodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
            let bytes = value.binaryEncoded()
            for length in 0..<bytes.count {
                do {
                    let decoded = try T(binaryEncoded: Array(bytes.prefix(length)))
                    Issue.record("\(length) of \(bytes.count) bytes decoded as \(decoded)", sourceLocation: sourceLocation)
                } catch {
                    // A cut inside a value reads as truncated; a cut inside a string or array reads
                    // as a length longer than the bytes left.
                    #expect(error.reason == .truncated || error.reason == .lengthOutOfRange, sourceLocation: sourceLocation)
                }
            }
        }
        expectEveryPrefixThrows(Sample.example)
        expectEveryPrefixThrows(EchoLikeRequest(setup: "setup", index: 12, text: "hello"))
        expectEveryPrefixThrows([["a", "bc"], [], ["déf"]])
        expectEveryPrefixThrows([Int64?.none, 5, -7])
        expectEveryPrefixThrows(Double.pi)
        let cut = try #require(throws: BinaryDecodingError.self) {
            try Sample(binaryEncoded: Array(Sample.example.binaryEncoded().dropLast()))
        }
        #expect(cut.reason == .lengthOutOfRange)
        #expect(cut.description.contains("exceeds the 1 bytes left"))
    }

    /// Decoding random bytes must never trap: it either decodes or throws. When it decodes, the
    /// value re-encodes to exactly the same bytes (the format has one encoding per value).
    @Test func randomBytesDecodeOrThrowButNeverCrash() throws {
        var generator = SplitMix64(seed: 0x5EED_1234_ABCD)
        var decoded = 0
        var rejected = 0
        for round in 0..<6000 {
            let bytes = randomInput(round: round, using: &generator)
            func attempt<T: BinaryCodable>(_ type: T.Type) {
                do {
                    let value = try T(binaryEncoded: bytes)
                    #expect(value.binaryEncoded() == bytes, "\(T.self) re-encodes \(bytes) differently")
                    decoded += 1
                } catch {
                    rejected += 1
                }
            }
            attempt(String.self)
            attempt([String].self)
            attempt([UInt8].self)
            attempt([Int].self)
            attempt([[UInt8]].self)
            attempt(Int?.self)
            attempt([Bool?].self)
            attempt(Double.self)
            attempt(UInt32.self)
            attempt(Sample.self)
            attempt(EchoLikeRequest.self)
        }
        // Both paths were exercised.
        #expect(decoded > 1000)
        #expect(rejected > 1000)
    }
}

/// A composite value exercising nested conformances.
private struct Sample: BinaryCodable, Equatable {
    var id: Int64
    var name: String
    var tags: [String]
    var weight: Double?
    var flags: [Bool]

    static let example = Sample(id: 1 << 40, name: "sample ✓", tags: ["a", "", "long tag"], weight: 0.25, flags: [true, false])

    init(id: Int64, name: String, tags: [String], weight: Double?, flags: [Bool]) {
        self.id = id
        self.name = name
        self.tags = tags
        self.weight = weight
        self.flags = flags
    }

    func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(tags)
        writer.write(weight)
        writer.write(flags)
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        id = try reader.read()
        name = try reader.read()
        tags = try reader.read()
        weight = try reader.read()
        flags = try reader.read()
    }
}

/// The shape of echo-swift's request, to fuzz a realistic message.
private struct EchoLikeRequest: BinaryCodable, Equatable {
    var setup: String?
    var index: Int
    var text: String

    init(setup: String?, index: Int, text: String) {
        self.setup = setup
        self.index = index
        self.text = text
    }

    func encode(to writer: inout BinaryWriter) {
        writer.write(setup)
        writer.write(index)
        writer.write(text)
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        setup = try reader.read()
        index = try reader.read()
        text = try reader.read()
    }
}

private func expectRoundTrips<T: BinaryCodable & Equatable>(
    _ values: [T], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for value in values {
        let decoded = try T(binaryEncoded: value.binaryEncoded())
        #expect(decoded == value, sourceLocation: sourceLocation)
    }
    // The values as one array too.
    #expect(try [T](binaryEncoded: values.binaryEncoded()) == values, sourceLocation: sourceLocation)
}

private func expectDecodingError<T: BinaryDecodable>(
    _ type: T.Type, _ bytes: [UInt8], _ reason: BinaryDecodingError.Reason,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        _ = try T(binaryEncoded: bytes)
        Issue.record("\(T.self) decoded \(bytes)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.reason == reason, "\(error)", sourceLocation: sourceLocation)
    }
}

/// A deterministic generator (SplitMix64), so that a failure reproduces.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random input biased towards bytes that look like encodings: small lengths, tags 0/1, ASCII,
/// and now and then huge varints or valid encodings with a byte flipped.
private func randomInput(round: Int, using generator: inout SplitMix64) -> [UInt8] {
    switch round % 4 {
    case 0:
        let count = Int.random(in: 0...24, using: &generator)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    case 1:
        let count = Int.random(in: 0...24, using: &generator)
        let alphabet: [UInt8] = [0, 1, 2, 3, 0x41, 0x61, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]
        return (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
    case 2:
        var bytes = Sample(
            id: Int64.random(in: -5...5, using: &generator), name: "n", tags: ["t"], weight: nil, flags: [true]
        ).binaryEncoded()
        let position = Int.random(in: 0..<bytes.count, using: &generator)
        bytes[position] ^= UInt8.random(in: 1...255, using: &generator)
        return bytes
    default:
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...10, using: &generator) {
            bytes.append(UInt8.random(in: 0x80...0xFF, using: &generator))
        }
        bytes.append(UInt8.random(in: 0...0x7F, using: &generator))
        bytes += (0..<Int.random(in: 0...4, using: &generator)).map { _ in UInt8(ascii: "z") }
        return bytes
    }
}

// MARK: - Export through the C descriptor

/// A small task kind driven in this process through the C descriptor.
///
/// Tasks are words. A fresh worker's request is `fresh:<word>`, an old one's `old<n>:<word>`
/// where `n` (the competence) counts the responses the worker gave. The worker uppercases.
private struct KitTestKind: TaskKind {
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

    init(arguments: [String], context: OpenContext<KitTestKind>) throws {
        if arguments.contains("--fail") {
            throw UsageError("--fail was given")
        }
        host = context.host
        policy = context.policy
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

    mutating func marshalError(_ message: String, task: String?) -> TaskOutcome? {
        task == "rescue" ? .done : nil
    }

    mutating func taskLost(_ task: String?, reason: LossReason, message: String, willRetry: Bool) -> TaskOutcome? {
        reason == .cancelled ? .failed("cancelled: \(task ?? "no task") \(message)") : nil
    }

    mutating func feedback(_ feedback: String, from worker: String) {
        feedbackSeen.append("\(worker): \(feedback)")
        host.broadcast("seen \(feedback)")
    }

    mutating func finish(summary: RunSummary) -> RunReport {
        RunReport("kit-test: \(summary.done) done; feedback \(feedbackSeen)", exitStatus: 3)
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

private struct KitTestWorker: TaskWorker {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused to perform" }
    }

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
}

/// Another kind, to check that a library exports only one.
private struct OtherKind: TaskKind {
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
private struct BadNameKind: TaskKind {
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

@Suite("PluginKit export")
struct PluginKitExportTests {
    private func testDescriptor() throws -> ph_plugin_descriptor {
        var descriptor = ph_plugin_descriptor()
        let status = PluginExport.fill(&descriptor, hostMajor: 1, hostMinor: 0, kind: KitTestKind.self)
        try #require(status == 0)
        return descriptor
    }

    @Test func fillDescribesTheKind() throws {
        let descriptor = try testDescriptor()
        #expect(descriptor.abi_major == UInt32(PH_ABI_VERSION_MAJOR))
        #expect(descriptor.abi_minor == UInt32(PH_ABI_VERSION_MINOR))
        #expect(string(descriptor.name) == "kit-test")
        #expect(string(descriptor.version) == "0.1.0")
        #expect(string(descriptor.description) == "PluginKit's in-process test kind")
        #expect(string(descriptor.usage) == "kit-test [--fail] WORD...")
        #expect(descriptor.default_policy == PH_POLICY_PERSISTENT)
        #expect(descriptor.master_open != nil && descriptor.request_of_task != nil)
        #expect(descriptor.use_response != nil && descriptor.perform != nil && descriptor.worker_init != nil)
        #expect(descriptor.get_extension == nil)
        // Filling again gives the same static strings.
        let again = try testDescriptor()
        #expect(again.name == descriptor.name)
    }

    @Test func fillRefusesWhatItCannotServe() throws {
        _ = try testDescriptor()
        var descriptor = ph_plugin_descriptor()
        #expect(PluginExport.fill(&descriptor, hostMajor: 2, hostMinor: 0, kind: KitTestKind.self) == 1)
        #expect(descriptor.abi_major == 1 && descriptor.master_open == nil)
        #expect(PluginExport.fill(nil, hostMajor: 1, hostMinor: 0, kind: KitTestKind.self) == 2)
        #expect(PluginExport.fill(&descriptor, hostMajor: 1, hostMinor: 0, kind: OtherKind.self) == 3)
        #expect(PluginExport.fill(&descriptor, hostMajor: 1, hostMinor: 0, kind: BadNameKind.self) == 4)
        #expect(PluginExport.Refusal.anotherKindExported.rawValue == 3)
    }

    @Test func masterOpenQueuesTasksOrReportsAUsageError() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(
            host.open(descriptor, ["kit-test", "alpha", "beta", "tiny", "untimed"], policy: PH_POLICY_PERSISTENT))
        #expect(host.pushes.map(\.bytes) == ["alpha", "beta", "tiny", "untimed"].map(bytes))
        #expect(host.pushes.map(\.priority) == [1, 1, 1, 1])
        // Timeouts in whole milliseconds, rounded up; 0 means the run's default.
        #expect(host.pushes.map(\.timeout) == [1500, 1500, 1, 0])
        #expect(host.logs == ["1: opened with 4 words and 2 workers"])
        host.finish(descriptor, master)

        let failing = FakeHost()
        #expect(failing.open(descriptor, ["kit-test", "--fail"], policy: PH_POLICY_ONE_SHOT) == nil)
        #expect(failing.error == "--fail was given")
    }

    @Test func requestPerformAndResponseRoundTripThroughTheCTable() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let worker = try #require(startWorker(descriptor, name: "kit-test:0:1"))

        // Fresh worker.
        let task = bytes("hello")
        let fresh = host.request(descriptor, master, task: task, competence: nil)
        #expect(fresh.result == PH_REQUEST_READY)
        #expect(fresh.request == (bytes("fresh:hello")))
        let performed = perform(descriptor, worker, fresh.request ?? [])
        #expect(performed.status == 0)
        #expect(performed.response == (bytes("FRESH:HELLO")))
        let decision = host.useResponse(descriptor, master, task: task, competence: nil, response: performed.response ?? [])
        #expect(decision.stay == UInt32(1).binaryEncoded())
        #expect(decision.resolved == nil)

        // The same worker, now old with competence 1.
        let old = host.request(descriptor, master, task: task, competence: decision.stay)
        #expect(old.request == (bytes("old1:hello")))
        let second = host.useResponse(descriptor, master, task: task, competence: decision.stay, response: bytes("OLD1:HELLO"))
        #expect(second.stay == UInt32(2).binaryEncoded())

        // Follow-ups, pushes from use_response, failures.
        let follow = host.useResponse(descriptor, master, task: task, competence: nil, response: bytes("FOLLOW"))
        #expect(follow.followUps.map(\.bytes) == [bytes("follow-up")])
        #expect(follow.followUps.map(\.priority) == [-1])
        #expect(host.pushes.map(\.bytes) == [bytes("pushed-by-use-response")])
        let failed = host.useResponse(descriptor, master, task: task, competence: nil, response: bytes("FAIL"))
        #expect(failed.stay == nil)
        #expect(failed.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(failed.resolved?.message == "the worker said FAIL")

        // Feedback goes both ways.
        let withFeedback = perform(descriptor, worker, bytes("fresh:feedback"))
        #expect(withFeedback.feedback == [bytes("one"), bytes("two")])
        for message in withFeedback.feedback {
            message.withUnsafeBufferPointer { buffer in
                descriptor.forward_feedback?(master, "kit-test:0:1", ph_bytes(data: buffer.baseAddress, len: buffer.count))
            }
        }

        #expect(host.broadcasts == [bytes("seen one"), bytes("seen two")])
        for message in host.broadcasts + [[0xFF]] {
            message.withUnsafeBufferPointer { buffer in
                descriptor.on_broadcast?(worker, ph_bytes(data: buffer.baseAddress, len: buffer.count))
            }
        }
        // The undecodable broadcast was dropped; the last good one arrived.
        #expect(perform(descriptor, worker, bytes("fresh:show-broadcast")).response == bytes("seen two"))

        // Names, pull and matching.
        #expect(host.name(descriptor.name_of_task, master, task) == "task hello")
        #expect(descriptor.pull?(master, 4) == 0)
        #expect(host.pushes.last?.bytes == (bytes("pulled")))
        #expect(host.match(descriptor, master, task: task, competence: nil) == 1)
        #expect(host.match(descriptor, master, task: bytes("never-matches"), competence: nil) == 0)

        let report = host.finish(descriptor, master)
        #expect(report.text == #"kit-test: 0 done; feedback ["kit-test:0:1: one", "kit-test:0:1: two"]"#)
        #expect(report.status == 3)
    }

    @Test func obsoleteAndUnmarshallableTasks() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let obsolete = host.request(descriptor, master, task: bytes("obsolete"), competence: nil)
        #expect(obsolete.result == PH_REQUEST_OBSOLETE)
        #expect(obsolete.request == nil)
        let unmarshallable = host.request(descriptor, master, task: bytes("unmarshallable"), competence: nil)
        #expect(unmarshallable.result == PH_REQUEST_READY)
        #expect(unmarshallable.marshalError?.contains("cannot marshal this task") == true)
        let corruptTask = host.request(descriptor, master, task: [9, 0x41], competence: nil)
        #expect(corruptTask.marshalError?.contains("did not decode") == true)
        let corruptCompetence = host.request(descriptor, master, task: bytes("x"), competence: [1])
        #expect(corruptCompetence.marshalError?.contains("did not decode") == true)
        host.finish(descriptor, master)
    }

    @Test func undecodableResponseFailsTheTaskAndEndsTheWorker() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let decision = host.useResponse(descriptor, master, task: bytes("hello"), competence: nil, response: [200, 1])
        #expect(decision.stay == nil)
        #expect(decision.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(decision.resolved?.message.contains("the response did not decode") == true)
        // The marshal-error hook may rescue the task.
        let rescued = host.useResponse(descriptor, master, task: bytes("rescue"), competence: nil, response: [200])
        #expect(rescued.stay == nil)
        #expect(rescued.resolved?.outcome == PH_OUTCOME_DONE)
        host.finish(descriptor, master)
    }

    @Test func lossAndMarshalErrorCallbacksMayResolve() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let cancelled = host.lost(descriptor, master, task: bytes("t"), reason: PH_LOSS_CANCELLED)
        #expect(cancelled.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(cancelled.resolved?.message == "cancelled: t gone")
        let idleDeath = host.lost(descriptor, master, task: nil, reason: PH_LOSS_WORKER_DIED)
        #expect(idleDeath.resolved == nil)
        let rescued = host.marshalError(descriptor, master, task: bytes("rescue"))
        #expect(rescued.resolved?.outcome == PH_OUTCOME_DONE)
        let notRescued = host.marshalError(descriptor, master, task: bytes("other"))
        #expect(notRescued.resolved == nil)
        host.finish(descriptor, master)
    }

    @Test func corruptOrRefusedRequestsMakePerformFail() throws {
        let descriptor = try testDescriptor()
        let worker = try #require(startWorker(descriptor, name: "kit-test:1:2"))
        let corrupt = perform(descriptor, worker, [0xFF, 0xFF, 0xFF])
        #expect(corrupt.status != 0)
        #expect(corrupt.response == nil)
        #expect(corrupt.failure?.contains("the request did not decode") == true)
        let refused = perform(descriptor, worker, bytes("please throw"))
        #expect(refused.status != 0)
        #expect(refused.failure?.contains("refused to perform") == true)
        let empty = perform(descriptor, worker, [])
        #expect(empty.status != 0)
        // The worker is still usable afterwards.
        #expect(perform(descriptor, worker, bytes("ok")).response == (bytes("OK")))

        // A worker whose initializer threw fails every request with the reason.
        let broken = try #require(startWorker(descriptor, name: "kit-test:2:broken"))
        let failed = perform(descriptor, broken, bytes("ok"))
        #expect(failed.status != 0)
        #expect(failed.failure == "kit-test: worker kit-test:2:broken did not start: refused to perform")
    }

    @Test func pushOutsideAllowedCallbacksIsDroppedAndLogged() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        host.logs.removeAll()
        #expect(host.name(descriptor.name_of_task, master, bytes("push-from-name")) == "task push-from-name")
        #expect(host.pushes.isEmpty)
        #expect(host.logs.count == 1)
        #expect(host.logs.first?.hasPrefix("3: kit-test: push(_:) called outside") == true)
        host.finish(descriptor, master)
    }
}

// MARK: - The EchoSwiftPlugin library, loaded with dlopen

@Suite("EchoSwiftPlugin")
struct EchoSwiftPluginTests {
    @Test func freshAndOldWorkersUnderBothPolicies() throws {
        let descriptor = try EchoLibrary.descriptor()
        #expect(string(descriptor.name) == "echo-swift")
        #expect(descriptor.default_policy == PH_POLICY_PERSISTENT)

        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["echo-swift", "one", "two"], policy: PH_POLICY_PERSISTENT))
        #expect(host.pushes.count == 2)
        let worker = try #require(startWorker(descriptor, name: "echo-swift:0:1"))
        let task = host.pushes[0].bytes

        let fresh = host.request(descriptor, master, task: task, competence: nil)
        let freshRequest = try #require(fresh.request)
        let answer = perform(descriptor, worker, freshRequest)
        #expect(answer.status == 0)
        let response = try #require(answer.response)
        // index 0, "ONE", then our pid: the worker runs in this process.
        #expect(Array(response.prefix(12)) == [0, 0, 0, 0, 0, 0, 0, 0, 3, 0x4F, 0x4E, 0x45])
        #expect(Array(response.suffix(4)) == Int32(getpid()).binaryEncoded())

        let decision = host.useResponse(descriptor, master, task: task, competence: nil, response: response)
        let competence = try #require(decision.stay)
        #expect(try String(binaryEncoded: competence) == "echo-setup-v1")
        #expect(decision.resolved == nil)

        // The old worker's request omits the setup and is shorter.
        let old = host.request(descriptor, master, task: host.pushes[1].bytes, competence: competence)
        let oldRequest = try #require(old.request)
        #expect(oldRequest.count < freshRequest.count)
        #expect(oldRequest.first == 0)
        let oldAnswer = perform(descriptor, worker, oldRequest)
        #expect(oldAnswer.status == 0)
        let second = host.useResponse(
            descriptor, master, task: host.pushes[1].bytes, competence: competence, response: try #require(oldAnswer.response))
        #expect(second.stay == competence)
        #expect(second.resolved == nil)

        // A fresh worker given an old worker's request refuses instead of guessing.
        let newcomer = try #require(startWorker(descriptor, name: "echo-swift:1:2"))
        let refused = perform(descriptor, newcomer, oldRequest)
        #expect(refused.status != 0)
        #expect(refused.failure?.contains("never received") == true)

        // A corrupt request makes perform call fail, not crash.
        let corrupt = perform(descriptor, worker, [1, 0xFF, 0xFF, 0xFF])
        #expect(corrupt.status != 0)
        #expect(corrupt.failure?.contains("did not decode") == true)

        let report = host.finish(descriptor, master)
        #expect(report.text.hasPrefix("echo-swift: 0 done, 0 failed, 0 feedback messages"))

        // One-shot: the response ends the worker.
        let oneShotHost = FakeHost()
        let oneShot = try #require(oneShotHost.open(descriptor, ["echo-swift", "--payload", "feedback"], policy: PH_POLICY_ONE_SHOT))
        let oneShotTask = try #require(oneShotHost.pushes.first).bytes
        let oneShotRequest = try #require(oneShotHost.request(descriptor, oneShot, task: oneShotTask, competence: nil).request)
        let withFeedback = perform(descriptor, worker, oneShotRequest)
        #expect(withFeedback.feedback.count == 2)
        for message in withFeedback.feedback {
            message.withUnsafeBufferPointer { buffer in
                descriptor.forward_feedback?(oneShot, "echo-swift:0:1", ph_bytes(data: buffer.baseAddress, len: buffer.count))
            }
        }
        let ended = oneShotHost.useResponse(
            descriptor, oneShot, task: oneShotTask, competence: nil, response: try #require(withFeedback.response))
        #expect(ended.stay == nil)
        #expect(ended.resolved == nil)
        let oneShotReport = oneShotHost.finish(descriptor, oneShot, summary: ph_run_summary(done: 1, failed: 0, cancelled: 0, expired: 0, skipped: 0))
        #expect(oneShotReport.text.hasPrefix("echo-swift: 1 done, 0 failed, 2 feedback messages, 0 mismatched"))
    }

    @Test func countModeQueuesABatchThenPulls() throws {
        let descriptor = try EchoLibrary.descriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["echo-swift", "--count", "1030"], policy: PH_POLICY_PERSISTENT))
        #expect(host.pushes.count == 1024)
        #expect(descriptor.pull?(master, 4) == 1)
        #expect(host.pushes.count == 1028)
        #expect(descriptor.pull?(master, 100) == 0)
        #expect(host.pushes.count == 1030)
        host.finish(descriptor, master)

        let bad = FakeHost()
        #expect(bad.open(descriptor, ["echo-swift", "--count", "x"], policy: PH_POLICY_PERSISTENT) == nil)
        #expect(bad.error == "--count needs a non-negative number")
    }

    @Test func wrongAnswersFailTheTask() throws {
        let descriptor = try EchoLibrary.descriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["echo-swift", "abc"], policy: PH_POLICY_PERSISTENT))
        let task = host.pushes[0].bytes
        var wrong = BinaryWriter()
        wrong.write(0)
        wrong.write("abd")
        wrong.write(Int32(1))
        let decision = host.useResponse(descriptor, master, task: task, competence: nil, response: wrong.bytes)
        #expect(decision.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(decision.stay != nil)
        host.finish(descriptor, master)
    }
}

/// Loads libEchoSwiftPlugin.so from the directory of this test executable, once.
private enum EchoLibrary {
    static func descriptor() throws -> ph_plugin_descriptor {
        let path = binDirectory() + "/libEchoSwiftPlugin.so"
        // RTLD_NODELETE and no dlclose: unloading a Swift library breaks later dynamic casts.
        let handle = try #require(
            dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE),
            "cannot open \(path) (build the package first): \(dlerror().map { String(cString: $0) } ?? "")")
        let symbol = try #require(dlsym(handle, PH_ENTRY_SYMBOL))
        let entry = unsafeBitCast(symbol, to: ph_entry_fn.self)
        var descriptor = ph_plugin_descriptor()
        try #require(entry(1, 0, &descriptor) == 0)
        #expect(entry(2, 0, &descriptor) != 0)
        try #require(entry(1, 0, &descriptor) == 0)
        return descriptor
    }

    private static func binDirectory() -> String {
        guard let resolved = realpath("/proc/self/exe", nil) else { return "." }
        defer { free(resolved) }
        let path = String(cString: resolved)
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}

// MARK: - A fake host: C sinks that record what the plugin hands over

private func string(_ pointer: UnsafePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
}

private func bytes(_ string: String) -> [UInt8] {
    string.binaryEncoded()
}

private func copy(_ data: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    guard let data, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: data, count: count))
}

private func withView<R>(_ bytes: [UInt8]?, _ body: (ph_bytes) -> R) -> R {
    guard let bytes else { return body(ph_bytes(data: nil, len: 0)) }
    return bytes.withUnsafeBufferPointer { body(ph_bytes(data: $0.baseAddress, len: $0.count)) }
}

private func withStatus<R>(_ competence: [UInt8]?, _ body: (UnsafePointer<ph_worker_status>) -> R) -> R {
    withView(competence) { view in
        var status = ph_worker_status(is_old: competence == nil ? 0 : 1, competence: view, worker_name: nil)
        return withUnsafePointer(to: &status) { body($0) }
    }
}

private struct Pushed: Equatable {
    var bytes: [UInt8]
    var priority: Int32
    var timeout: UInt32
}

/// What a response sink received.
private final class ResponseRecord {
    var stay: [UInt8]?
    var followUps: [Pushed] = []
    var resolved: (outcome: ph_outcome, message: String)?

    static func from(_ sink: UnsafePointer<ph_response_sink>?) -> ResponseRecord {
        Unmanaged<ResponseRecord>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue()
    }

    func withSink<R>(_ body: (UnsafePointer<ph_response_sink>) -> R) -> R {
        var sink = ph_response_sink()
        sink.host_data = Unmanaged.passUnretained(self).toOpaque()
        sink.stay = { sink, data, count in ResponseRecord.from(sink).stay = copy(data, count) }
        sink.push_task = { sink, data, count, priority in
            ResponseRecord.from(sink).followUps.append(Pushed(bytes: copy(data, count), priority: priority, timeout: 0))
        }
        sink.resolve = { sink, outcome, message in
            ResponseRecord.from(sink).resolved = (outcome, string(message) ?? "<NULL>")
        }
        return withUnsafePointer(to: &sink) { body($0) }
    }
}

/// What a request sink received.
private final class RequestRecord {
    var result = PH_REQUEST_READY
    var request: [UInt8]?
    var marshalError: String?

    static func from(_ sink: UnsafePointer<ph_request_sink>?) -> RequestRecord {
        Unmanaged<RequestRecord>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue()
    }
}

/// The master-side services of a host, recording every call.
private final class FakeHost {
    var pushes: [Pushed] = []
    var broadcasts: [[UInt8]] = []
    var logs: [String] = []
    var error: String?
    private let table = UnsafeMutablePointer<ph_master_host>.allocate(capacity: 1)

    init() {
        table.initialize(to: ph_master_host())
        table.pointee.host_data = Unmanaged.passUnretained(self).toOpaque()
        table.pointee.push_task = { host, data, count, priority, timeout in
            FakeHost.from(host?.pointee.host_data).pushes.append(Pushed(bytes: copy(data, count), priority: priority, timeout: timeout))
        }
        table.pointee.broadcast = { host, data, count in
            FakeHost.from(host?.pointee.host_data).broadcasts.append(copy(data, count))
        }
        table.pointee.log = { host, level, message in
            FakeHost.from(host?.pointee.host_data).logs.append("\(level): \(string(message) ?? "")")
        }
    }

    deinit {
        table.deallocate()
    }

    static func from(_ data: UnsafeMutableRawPointer?) -> FakeHost {
        Unmanaged<FakeHost>.fromOpaque(data!).takeUnretainedValue()
    }

    func open(_ descriptor: ph_plugin_descriptor, _ argv: [String], policy: ph_policy) -> UnsafeMutableRawPointer? {
        var errors = ph_error_sink()
        errors.host_data = Unmanaged.passUnretained(self).toOpaque()
        errors.set_error = { sink, message in FakeHost.from(sink?.pointee.host_data).error = string(message) }
        let cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { argvBuffer in
            var params = ph_open_params(argc: Int32(argvBuffer.count), argv: argvBuffer.baseAddress, policy: policy, max_workers: 2)
            return descriptor.master_open?(table, &params, &errors)
        }
    }

    func request(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8], competence: [UInt8]?)
        -> RequestRecord
    {
        let record = RequestRecord()
        var sink = ph_request_sink()
        sink.host_data = Unmanaged.passUnretained(record).toOpaque()
        sink.set_request = { sink, data, count in RequestRecord.from(sink).request = copy(data, count) }
        sink.set_marshal_error = { sink, message in RequestRecord.from(sink).marshalError = string(message) }
        record.result = withStatus(competence) { status in
            withView(task) { task in descriptor.request_of_task!(master, status, task, &sink) }
        }
        return record
    }

    func useResponse(
        _ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8], competence: [UInt8]?,
        response: [UInt8]
    ) -> ResponseRecord {
        let record = ResponseRecord()
        record.withSink { sink in
            withStatus(competence) { status in
                withView(task) { task in
                    withView(response) { response in descriptor.use_response!(master, status, task, response, sink) }
                }
            }
        }
        return record
    }

    func lost(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8]?, reason: ph_loss_reason)
        -> ResponseRecord
    {
        let record = ResponseRecord()
        record.withSink { sink in
            withView(task) { task in descriptor.on_task_lost?(master, task, reason, "gone", 0, sink) }
        }
        return record
    }

    func marshalError(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8]) -> ResponseRecord {
        let record = ResponseRecord()
        record.withSink { sink in
            withView(task) { task in descriptor.on_marshal_error?(master, "frame was malformed", task, sink) }
        }
        return record
    }

    func match(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8], competence: [UInt8]?) -> Int32 {
        withStatus(competence) { status in
            withView(task) { task in descriptor.task_match.map { $0(master, status, task) } ?? 1 }
        }
    }

    func name(
        _ function: (@convention(c) (UnsafeMutableRawPointer?, ph_bytes, UnsafePointer<ph_name_sink>?) -> Void)?,
        _ master: UnsafeMutableRawPointer, _ value: [UInt8]
    ) -> String? {
        final class Box { var name: String? }
        let box = Box()
        var sink = ph_name_sink()
        sink.host_data = Unmanaged.passUnretained(box).toOpaque()
        sink.set_name = { sink, name in Unmanaged<Box>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue().name = string(name) }
        withView(value) { view in function?(master, view, &sink) }
        return box.name
    }

    @discardableResult
    func finish(
        _ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer,
        summary: ph_run_summary = ph_run_summary()
    ) -> (text: String, status: Int32) {
        final class Box {
            var text = ""
            var status: Int32 = 0
        }
        let box = Box()
        var sink = ph_report_sink()
        sink.host_data = Unmanaged.passUnretained(box).toOpaque()
        sink.write = { sink, text in Unmanaged<Box>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue().text += string(text) ?? "" }
        sink.set_exit_status = { sink, status in Unmanaged<Box>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue().status = status }
        var summary = summary
        descriptor.finish?(master, &summary, &sink)
        return (box.text, box.status)
    }
}

private func startWorker(_ descriptor: ph_plugin_descriptor, name: String) -> UnsafeMutableRawPointer? {
    name.withCString { name in
        var params = ph_worker_params(worker_name: name)
        return descriptor.worker_init?(&params)
    }
}

/// What one `perform` call produced.
private final class PerformRecord {
    var status: Int32 = -1
    var response: [UInt8]?
    var feedback: [[UInt8]] = []
    var failure: String?

    static func from(_ context: UnsafePointer<ph_perform_context>?) -> PerformRecord {
        Unmanaged<PerformRecord>.fromOpaque(context!.pointee.host_data!).takeUnretainedValue()
    }
}

private func perform(_ descriptor: ph_plugin_descriptor, _ worker: UnsafeMutableRawPointer, _ request: [UInt8]) -> PerformRecord {
    let record = PerformRecord()
    var context = ph_perform_context()
    context.host_data = Unmanaged.passUnretained(record).toOpaque()
    context.respond = { context, data, count in PerformRecord.from(context).response = copy(data, count) }
    context.feedback = { context, data, count in PerformRecord.from(context).feedback.append(copy(data, count)) }
    context.should_stop = { _ in 0 }
    context.fail = { context, message in PerformRecord.from(context).failure = string(message) }
    record.status = withView(request) { request in descriptor.perform!(worker, request, &context) }
    return record
}
