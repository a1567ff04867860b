// Time limits: a task that runs past its limit has its worker killed; it is retried like a death
// and, once the retries are used up, ends `expired`. A per-task limit overrides the run's.
import PluginHost
import TestSupport
import Testing

@Suite("Expiration")
struct ExpirationTests {
    @Test("hang with a 0.3 s run timeout expires after retries + 1 attempts", arguments: [0, 1])
    func hangExpires(retries: Int) async throws {
        let test = try TestRun(chaos: ["hang", "echo:next"], .test(jobs: 1, timeout: 0.3, retries: retries))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .expired)
        #expect(result.attempts == retries + 1)
        #expect(result.message?.contains("expired after \(retries + 1) attempt(s)") == true, "message: \(result.message ?? "nil")")
        #expect(test.log.retries.count == retries)
        #expect(Set(test.log.workers(of: 1)).count == retries + 1, "each attempt on a fresh worker")
        #expect(test.log.workersEnded.contains { $0.reason == "killed: its task ran past the time limit" })
        #expect(try report.result(2).outcome == .done)
        #expect(report.counts.expired == 1)
        #expect(report.exitStatus == 1)
    }

    @Test("a per-task limit (@200 hang) expires without any run timeout")
    func perTaskTimeout() async throws {
        let test = try TestRun(chaos: ["@200 hang"], .test(jobs: 1, timeout: nil, retries: 0))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .expired)
        #expect(result.attempts == 1)
    }

    @Test("a short task well within its limit is done")
    func withinLimitIsDone() async throws {
        let test = try TestRun(chaos: ["sleep:50", "echo:x"], .test(jobs: 1, timeout: 5))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(1).response?.result == "slept 50")
        #expect(report.counts.done == 2)
        #expect(report.counts.expired == 0)
    }

    @Test("a per-task limit overrides a shorter run timeout")
    func perTaskLimitOverridesRunTimeout() async throws {
        let test = try TestRun(chaos: ["@30000 sleep:600", "@150 hang"], .test(jobs: 2, timeout: 0.3, retries: 0))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .done, "600 ms is within its own 30 s limit")
        #expect(try report.result(2).outcome == .expired)
    }

    @Test("a persistent worker that served a task with a limit is not killed later by that stale limit")
    func staleLimitDoesNotKillLaterTask() async throws {
        // Task 1 finishes within 200 ms; task 2 (no limit) runs on the same worker past task 1's deadline.
        let test = try TestRun(chaos: ["@200 echo:quick", "sleep:600"], policy: .persistent, .test(jobs: 1, retries: 0))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .done)
        let second = try report.result(2)
        #expect(second.outcome == .done)
        #expect(second.response?.pid == (try report.result(1).response?.pid))
    }
}
