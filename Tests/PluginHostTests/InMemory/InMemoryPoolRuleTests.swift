// Rules 3, 8 and 11 (recycling, feedback and broadcasts, kinds sharing the budget) over
// in-memory workers.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Pool rules over in-memory workers")
struct InMemoryPoolRuleTests {
    @Test("rule 3: --max-jobs-per-worker recycles a persistent worker after N jobs")
    func recycleAfterJobs() async throws {
        let test = try InMemoryRun(chaos: ["echo:1", "echo:2", "echo:3", "echo:4", "echo:5"], policy: .persistent,
                                   .test(jobs: 1, maxJobsPerWorker: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 5)
        #expect(test.workers.map(\.requests.count) == [2, 2, 1])
        #expect(test.log.workersEnded.prefix(2).allSatisfy { $0.reason == "recycled after 2 jobs" })
    }

    @Test("rule 3: a worker whose memory grew past --max-worker-rss is recycled between jobs")
    func recycleAfterGrowth() async throws {
        let test = try InMemoryRun(chaos: ["leak:100", "echo:b"], policy: .persistent,
                                   .test(jobs: 1, maxWorkerRSSBytes: 64 << 20))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        #expect(test.workers.map(\.requests) == [["F|leak:100"], ["F|echo:b"]])
        #expect(test.log.workersEnded.first?.reason == "recycled: resident memory 108 MiB over the limit of 64 MiB")
    }

    @Test("rule 3: a worker that grows past --max-worker-rss during a job is killed and its task lost")
    func killedWhileGrowing() async throws {
        let test = try InMemoryRun(chaos: ["grow:100"], .test(jobs: 1, retries: 1, maxWorkerRSSBytes: 64 << 20))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed && result.attempts == 2)
        #expect(result.message?.contains("worker exceeded --max-worker-rss 64 MiB (RSS 108 MiB)") == true)
        #expect(test.workers.allSatisfy { $0.wasKilled })
    }

    @Test("rule 8, S11: feedback reaches the master in order, before the response it precedes")
    func feedbackInOrder() async throws {
        let test = try InMemoryRun(chaos: ["feedback:200"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).message == "feedback 200 in order")
        let feedback = test.log.kinds.indices.filter { if case .feedback = test.log.kinds[$0] { true } else { false } }
        let end = try #require(test.log.index { if case .taskEnded(1, _, _, _) = $0 { true } else { false } })
        #expect(feedback.count == 200 && feedback.allSatisfy { $0 < end })
    }

    @Test("rule 8: a broadcast reaches a busy worker before its next request")
    func broadcastBeforeNextRequest() async throws {
        let test = try InMemoryRun(chaos: ["broadcast:B1", "lastbroadcast"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(2).response?.result == "B1")
        let worker = try #require(test.workers.first)
        #expect(test.workers.count == 1)
        #expect(Array(worker.contacts.prefix(3)) == [.request(id: 1, text: "F|broadcast:B1"), .broadcast("B1"),
                                                     .request(id: 2, text: "O:chaos|lastbroadcast")])
    }

    @Test("rule 11: two kinds share one slot: the idle worker of one is retired when the other needs its slot")
    func kindsShareTheBudget() async throws {
        let test = InMemoryRun(.test(jobs: 1))
        try test.test.addChaos(["echo:a"], policy: .persistent)
        try test.test.addChaos(["echo:b"], policy: .persistent)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        #expect(test.workers.map(\.name) == ["chaos:0:0", "chaos-2:0:0"])
        #expect(test.log.workersEnded.first?.reason == "its slot is needed by chaos-2")
    }
}
