// Recycling a worker whose real resident memory grew past the limit (the policy and job-count
// rules run over in-memory workers: InMemory/InMemoryRecyclingTests.swift).
import PluginHost
import TestSupport
import Testing

@Suite("Worker recycling by resident memory")
struct RecyclingTests {
    @Test("maxWorkerRSSBytes recycles a worker that leaked past the limit; the next task runs on a new pid")
    func rssLimitRecycles() async throws {
        var configuration = HostConfiguration.test(jobs: 1, maxWorkerRSSBytes: 100 << 20)
        // The check between jobs only: the one during a job (MemoryLimitTests) would race the leak.
        configuration.memoryCheckInterval = 3600
        let test = try TestRun(chaos: ["leak:200", "echo:after"], policy: .persistent, configuration)
        let report = try await test.startAndFinish()
        let leak = try #require(try report.result(1).response)
        let after = try #require(try report.result(2).response)
        #expect(leak.result == "leaked 200")
        #expect(after.pid != leak.pid)
        #expect(after.status == "F")
        #expect(report.workersStarted == 2)
        #expect(test.log.workersEnded.contains { $0.reason.contains("resident memory") })
    }

    @Test("without an RSS limit the same worker keeps serving after the leak")
    func noRSSLimitKeepsWorker() async throws {
        let test = try TestRun(chaos: ["leak:20", "echo:after"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let leak = try #require(try report.result(1).response)
        let after = try #require(try report.result(2).response)
        #expect(after.pid == leak.pid)
        #expect(after.status == "O:chaos")
    }
}
