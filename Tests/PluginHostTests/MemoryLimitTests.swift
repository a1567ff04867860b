// --max-worker-rss holds during a job too: a worker whose memory grows while it runs a task is
// killed once over the limit, and its task is lost with a reason naming the limit and the size
// (issue 12, defect 7: the limit was only checked between jobs, and a job reached 2.9 GB).
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Memory limit during a job")
struct MemoryLimitTests {
    @Test("a worker growing past --max-worker-rss mid-job is killed; the task fails naming the limit")
    func growingWorkerIsKilledMidJob() async throws {
        // grow never answers: only the memory limit (or, before it existed, the time limit) ends it.
        let test = try TestRun(chaos: ["grow:1024", "echo:after"],
                               .test(jobs: 1, timeout: 30, retries: 1, maxWorkerRSSBytes: 64 << 20))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed, "message: \(result.message ?? "nil")")
        #expect(result.attempts == 2, "the death rules apply: one retry, then failed")
        let message = try #require(result.message)
        #expect(message.contains("worker exceeded --max-worker-rss 64 MiB (RSS "), "message: \(message)")
        #expect(test.log.retries.first?.reason.hasPrefix("worker exceeded --max-worker-rss 64 MiB") == true)
        #expect(try report.result(2).outcome == .done, "the next task runs on a fresh worker")
    }
}
