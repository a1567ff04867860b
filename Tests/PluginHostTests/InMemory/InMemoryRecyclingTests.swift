// How many workers a run uses: the policy override and recycling after N jobs, over in-memory
// workers.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Worker recycling and policy (in-memory workers)")
struct InMemoryRecyclingTests {
    static let sixEchoes = (1...6).map { "echo:\($0)" }

    @Test("--policy persistent uses one worker for six tasks; one-shot uses six")
    func policyOverrideChangesWorkerCount() async throws {
        // The chaos plugin defaults to one-shot.
        #expect(Chaos.library.defaultPolicy == .oneShot)
        let persistent = try TestRun.inMemory(chaos: Self.sixEchoes, policy: .persistent, .test(jobs: 1))
        let persistentReport = try await persistent.startAndFinish()
        #expect(persistentReport.workersStarted == 1)
        #expect(persistentReport.counts.done == 6)

        let oneShot = try TestRun.inMemory(chaos: Self.sixEchoes, policy: .oneShot, .test(jobs: 1))
        let oneShotReport = try await oneShot.startAndFinish()
        #expect(oneShotReport.workersStarted == 6)

        let byDefault = try TestRun.inMemory(chaos: Self.sixEchoes, .test(jobs: 1))
        let defaultReport = try await byDefault.startAndFinish()
        #expect(defaultReport.workersStarted == 6)
    }

    @Test("persistent with jobs 2 never starts more than 2 workers")
    func persistentWorkersBoundedByJobs() async throws {
        let test = try TestRun.inMemory(chaos: ["--repeat", "50", "echo"], policy: .persistent, .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 50)
        #expect(report.workersStarted <= 2)
        #expect(report.workersStarted >= 1)
    }

    @Test("maxJobsPerWorker 2 recycles a persistent worker after every second job")
    func maxJobsPerWorkerRecycles() async throws {
        let test = try TestRun.inMemory(chaos: Self.sixEchoes, policy: .persistent, .test(jobs: 1, maxJobsPerWorker: 2))
        let report = try await test.startAndFinish()
        #expect(report.workersStarted == 3)
        let responses = try (1...6).map { try #require(try report.result(UInt64($0)).response) }
        #expect(responses[0].pid == responses[1].pid)
        #expect(responses[2].pid == responses[3].pid)
        #expect(responses[4].pid == responses[5].pid)
        #expect(Set([responses[0].pid, responses[2].pid, responses[4].pid]).count == 3)
        #expect(responses.map(\.status) == ["F", "O:chaos", "F", "O:chaos", "F", "O:chaos"])
        let recycled = test.log.workersEnded.filter { $0.reason.contains("recycled after 2 jobs") }
        #expect(recycled.count >= 2)
    }

    @Test("recycling after N jobs waits for the follow-up pinned to the worker")
    func recyclingDoesNotOrphanFollowUp() async throws {
        // followup:3 answers, stays Old(held:PID) and pushes a follow-up only that worker can run.
        // Retiring the worker right after that response leaves the follow-up without a worker.
        // jobs 2, so that the orphan is failed rather than hanging the run (see followUpOrphanedByDeathOneJob).
        let test = try TestRun.inMemory(chaos: ["followup:3", "echo:after"], policy: .persistent, .test(jobs: 2, maxJobsPerWorker: 1))
        let report = try await test.startAndFinish(timeout: 30)
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(2).outcome == .done)
        let followUp = try #require(report.results.first { $0.parent == 1 })
        // (Regression: the worker was retired at the limit although the response had just pinned a
        // follow-up to it, which then failed as orphaned.)
        #expect(followUp.outcome == .done, "follow-up: \(followUp.outcome) \(followUp.message ?? "")")
        #expect(followUp.attempts == 1)
        #expect(test.log.workers(of: followUp.id) == test.log.workers(of: 1))
        #expect(test.log.workersEnded.contains { $0.reason.contains("recycled after") })
    }
}
