// Worker-side task failures (a task-failure frame) over in-memory workers: the task fails with
// the message, without retry or master callback, and the worker is kept with its status.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Task failures over in-memory workers")
struct InMemoryTaskFailureTests {
    @Test("the task fails with the worker's message; the worker keeps its competence and serves on")
    func workerKeptWithItsCompetence() async throws {
        let test = try InMemoryRun(chaos: ["echo:before", "taskfail:boom", "echo:after"], policy: .persistent,
                                   .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        let failed = try report.result(2)
        #expect(failed.outcome == .failed)
        #expect(failed.message == "boom")
        #expect(failed.attempts == 1)
        #expect(test.log.retries.isEmpty)
        #expect(test.log.kinds.contains(.taskEnded(task: 2, kind: "chaos", outcome: .failed, message: "boom")))
        #expect(test.workers.count == 1)
        #expect(test.workers.first?.requests == ["F|echo:before", "O:chaos|taskfail:boom", "O:chaos|echo:after"])
        #expect(try report.result(3).outcome == .done)
        let chaosReport = try #require(report.pluginReports.first?.text)
        #expect(chaosReport.hasPrefix("chaos: 3 tasks, done 2, failed 1,"), "report: \(chaosReport)")
        #expect(!chaosReport.contains("marshal errors"), "report: \(chaosReport)")
    }

    @Test("a task failure counts as a job for recycling")
    func countsAsAJob() async throws {
        let test = try InMemoryRun(chaos: ["taskfail", "taskfail", "echo:after"], policy: .persistent,
                                   .test(jobs: 1, maxJobsPerWorker: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.failed == 2)
        #expect(test.workers.count == 2)
        #expect(test.workers.first?.requests == ["F|taskfail", "F|taskfail"])
        #expect(test.log.workersEnded.first?.reason == "recycled after 2 jobs")
        #expect(test.workers.last?.requests == ["F|echo:after"])
    }

    @Test("a task failure for a task the worker is not running is a marshal error")
    func strayTaskFailureIsAMarshalError() async throws {
        let transport = InMemoryTransport(script: { _, _, _ in [.send(.taskFailure, "boom"), .send(.taskFailure, "again")] })
        let test = try InMemoryRun(chaos: ["echo:a", "echo:b"], policy: .persistent, .test(jobs: 1), transport: transport)
        let report = try await test.startAndFinish()
        #expect(try report.result(1).message == "boom")
        #expect(test.log.workersEnded.first?.reason.contains("task failure for task 1, which this worker was not running") == true,
                "\(test.log.workersEnded)")
    }
}
