// The EchoSwiftPlugin library, loaded with dlopen and driven through a fake host.
import PluginABI
import PluginKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

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
        try #require(entry(2, 0, &descriptor) == 0)
        #expect(entry(1, 2, &descriptor) != 0, "an ABI 1.x host is refused")
        #expect(entry(3, 0, &descriptor) != 0, "an ABI 3.x host is refused")
        try #require(entry(2, 0, &descriptor) == 0)
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
