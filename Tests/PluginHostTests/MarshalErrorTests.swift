// Marshal errors (S10): a request that cannot be encoded, a worker that reports it could not decode
// the request, a worker that writes bytes that are not frames. The task goes to on_marshal_error
// (failed unless the plugin resolves it) and the worker is replaced.
import PluginHost
import TestSupport
import Testing

@Suite("Marshal errors")
struct MarshalErrorTests {
    @Test("the task fails with the message and the worker is replaced",
          arguments: [("marshal", "marshal error: chaos: cannot encode request"),
                      ("badresp", "marshal error: chaos: cannot decode request"),
                      ("garbage", "malformed frame")])
    func marshalErrorFailsAndReplaces(spec: String, message: String) async throws {
        let test = try TestRun(chaos: ["echo:before", spec, "echo:after"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(2)
        #expect(result.outcome == .failed)
        #expect(result.message?.contains(message) == true, "message: \(result.message ?? "nil")")
        #expect(test.log.retries.isEmpty, "a marshal error is not a worker death: no retry")
        let before = try #require(try report.result(1).response)
        let after = try #require(try report.result(3).response)
        #expect(after.pid != before.pid, "the worker was replaced")
        #expect(after.status == "F")
        #expect(report.workersStarted == 2)
        #expect(test.log.workersEnded.contains { $0.reason.hasPrefix("killed after a marshal error") })
        let chaosReport = try #require(report.pluginReports.first?.text)
        #expect(chaosReport.contains("marshal errors 1"), "report: \(chaosReport)")
    }

    @Test("marshal-local: the plugin runs the task in the master and resolves it done")
    func marshalLocalResolvedInMaster() async throws {
        let test = try TestRun(chaos: ["marshal-local", "echo:after"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.message == "ran in master: chaos: cannot encode request")
        #expect(result.attempts == 0, "no request was ever sent")
        #expect(try report.result(2).outcome == .done)
        #expect(report.exitStatus == 0)
    }

    @Test("garbage on the protocol fd: the worker, which sleeps forever, is killed; the run ends")
    func garbageWorkerIsKilled() async throws {
        let test = try TestRun(chaos: ["garbage"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.message?.contains("malformed frame: bad header") == true)
        #expect(result.attempts == 1)
    }
}
