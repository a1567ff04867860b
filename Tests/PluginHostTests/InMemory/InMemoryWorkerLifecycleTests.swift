// Worker life: Fresh → Old(competence) after `stay` (S2), follow-ups pinned to their worker (S3),
// one worker per job under the one-shot policy with never-reused names (S1), lazy spawning.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Worker lifecycle (in-memory workers)")
struct InMemoryWorkerLifecycleTests {
    @Test("persistent: the second request on the same pid sees Old(chaos) (S2)")
    func persistentWorkerBecomesOld() async throws {
        let test = try TestRun.inMemory(chaos: ["echo:a", "echo:b", "echo:c"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let responses = try (1...3).map { try #require(try report.result(UInt64($0)).response) }
        #expect(responses.map(\.status) == ["F", "O:chaos", "O:chaos"])
        #expect(Set(responses.map(\.pid)).count == 1)
        #expect(responses.map(\.result) == ["a", "b", "c"])
        #expect(report.workersStarted == 1)
        #expect(test.log.workersStarted.first?.pid == responses[0].pid, "the handshake pid is the worker's pid")
    }

    @Test("`stay:COMP` under the plugin's default (one-shot) policy keeps the worker as Old(COMP) for exactly one more job")
    func stayUnderDefaultPolicy() async throws {
        let test = try TestRun.inMemory(chaos: ["stay:warm", "echo:x", "echo:y"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        let first = try #require(try report.result(1).response)
        let second = try #require(try report.result(2).response)
        let third = try #require(try report.result(3).response)
        #expect(first.status == "F")
        #expect(second.status == "O:warm" && second.pid == first.pid)
        #expect(third.status == "F" && third.pid != first.pid)
        #expect(report.workersStarted == 2)
    }

    @Test("an explicit one-shot policy binds: `stay` answers still end each worker, and the host says so once")
    func explicitOneShotOverridesStay() async throws {
        let test = try TestRun.inMemory(chaos: ["stay:warm", "stay:warm", "echo:x"], policy: .oneShot, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let responses = try (1...3).map { try #require(try report.result(UInt64($0)).response) }
        #expect(responses.map(\.status) == ["F", "F", "F"])
        #expect(Set(responses.map(\.pid)).count == 3)
        #expect(report.workersStarted == 3)
        #expect(report.counts.done == 3)
        let warnings = test.log.stderrLines.filter { $0.contains("policy is one-shot") }
        #expect(warnings == ["plugin-host: warning: chaos answers stay, but the policy is one-shot: each of its workers ends after one task"])
        #expect(test.log.workersEnded.filter { $0.reason.contains("one-shot policy") }.count == 2,
                "\(test.log.workersEnded)")
    }

    @Test("an explicit persistent policy keeps the workers that answer stay, as before")
    func explicitPersistentKeepsStay() async throws {
        let test = try TestRun.inMemory(chaos: ["stay:warm", "echo:x"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(2).response?.status == "O:warm")
        #expect(report.workersStarted == 1)
        #expect(!test.log.stderrLines.contains { $0.contains("policy is one-shot") })
    }

    @Test("a follow-up runs on its parent's worker right after the parent and ends done (S3)")
    func followUpRunsOnSameWorker() async throws {
        let test = try TestRun.inMemory(chaos: ["followup:34", "echo:a", "echo:b", "echo:c"], .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.total == 5)
        #expect(report.counts.done == 5)
        let parent = try report.result(1)
        let parentResponse = try #require(parent.response)
        #expect(parentResponse.result == "failed-at 34")
        let followUp = try #require(report.results.first { $0.parent == 1 })
        #expect(followUp.id == 5)
        #expect(followUp.outcome == .done)
        #expect(followUp.name == "#4 state:33@\(parentResponse.pid)")
        let response = try #require(followUp.response)
        #expect(response.pid == parentResponse.pid)
        #expect(response.status == "O:held:\(parentResponse.pid)")
        #expect(response.result == "state 33")
        // Queued with its parent, and the very next task on the parent's worker.
        #expect(test.log.kinds.contains { if case .taskQueued(5, _, _, 1) = $0 { true } else { false } })
        let worker = try #require(test.log.workers(of: 1).first)
        #expect(test.log.starts.filter { $0.worker == worker }.map(\.task) == [1, 5])
        // The parent ended before its follow-up started.
        let parentEnd = try #require(test.log.index { if case .taskEnded(1, _, _, _) = $0 { true } else { false } })
        let followUpStart = try #require(test.log.index { if case .taskStarted(5, _, _) = $0 { true } else { false } })
        #expect(parentEnd < followUpStart)
    }

    @Test("a follow-up whose worker dies is orphaned: it fails, and the run still finishes (jobs 2)")
    func followUpOrphanedByDeath() async throws {
        let test = try TestRun.inMemory(chaos: ["followup-die:5", "echo:z"], .test(jobs: 2, retries: 1))
        let report = try await test.startAndFinish()
        try Self.expectOrphaned(report, test.log)
    }

    @Test("same with jobs 1: the orphaned follow-up must not hang the run")
    func followUpOrphanedByDeathOneJob() async throws {
        let test = try TestRun.inMemory(chaos: ["followup-die:5", "echo:z"], .test(jobs: 1, retries: 1))
        test.start()
        // (Regression: pull() was only polled while queue.count < jobs, so a stuck orphan hung the run.)
        // A hang can only be seen through a deadline: a correct engine ends this run in well under a second.
        let report = try await test.finish(timeout: 8)
        try Self.expectOrphaned(report, test.log)
    }

    static func expectOrphaned(_ report: RunReport, _ log: EventLog) throws {
        let followUp = try #require(report.results.first { $0.parent == 1 })
        #expect(followUp.outcome == .failed)
        #expect(followUp.message?.contains("no worker can take this task") == true)
        #expect(followUp.attempts == 1, "it cannot be retried anywhere else")
        let parent = try #require(try report.result(1).response)
        #expect(log.kinds.contains { if case .taskStarted(followUp.id, _, 1) = $0 { true } else { false } })
        #expect(log.workers(of: followUp.id) == log.workers(of: 1), "the follow-up ran on its parent's worker (pid \(parent.pid))")
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(2).outcome == .done)
        #expect(report.counts.total == 3)
        let chaosReport = try #require(report.pluginReports.first?.text)
        #expect(chaosReport.contains("orphaned 1"))
        #expect(report.exitStatus == 1)
    }

    @Test("one-shot: a new process per task, names chaos:0:0, chaos:0:1, ... (S1)")
    func oneShotDistinctWorkers() async throws {
        let test = try TestRun.inMemory(chaos: ["echo:a", "echo:b", "echo:c"], policy: .oneShot, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(test.log.startOrder == [1, 2, 3])
        let pids = try (1...3).map { try #require(try report.result(UInt64($0)).response).pid }
        #expect(Set(pids).count == 3)
        #expect(try (1...3).allSatisfy { try report.result(UInt64($0)).response?.status == "F" })
        #expect(test.log.workersStarted.map(\.name) == ["chaos:0:0", "chaos:0:1", "chaos:0:2"])
        #expect(test.log.workersStarted.map(\.pid) == pids)
        #expect(test.log.starts.map(\.worker) == ["chaos:0:0", "chaos:0:1", "chaos:0:2"])
        #expect(report.workersStarted == 3, "no worker is started after the last task")
    }

    @Test("one-shot with jobs 2: worker uids are never reused within the kind")
    func uidsNeverReused() async throws {
        let test = try TestRun.inMemory(chaos: ["--repeat", "12", "echo"], policy: .oneShot, .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 12)
        let names = test.log.workersStarted.map(\.name)
        #expect(names.count == 12)
        #expect(Set(names).count == names.count)
        let uids = names.compactMap { $0.split(separator: ":").last.flatMap { Int($0) } }
        #expect(Set(uids).count == names.count, "uids: \(uids)")
        #expect(names.allSatisfy { $0.hasPrefix("chaos:0:") || $0.hasPrefix("chaos:1:") })
    }

    @Test("workers are spawned only when there is work for them")
    func lazySpawning() async throws {
        let empty = try TestRun.inMemory(chaos: [], .test(jobs: 4))
        let emptyReport = try await empty.startAndFinish()
        #expect(emptyReport.workersStarted == 0)
        #expect(emptyReport.counts.total == 0)
        #expect(emptyReport.exitStatus == 0)

        let single = try TestRun.inMemory(chaos: ["echo:only"], policy: .persistent, .test(jobs: 4))
        let singleReport = try await single.startAndFinish()
        #expect(singleReport.workersStarted == 1)

        let two = try TestRun.inMemory(chaos: ["echo:1", "echo:2"], policy: .oneShot, .test(jobs: 3))
        let twoReport = try await two.startAndFinish()
        #expect(twoReport.workersStarted == 2)
    }
}
