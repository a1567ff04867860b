// Queue rules 1, 2 and 9 and Coq's scenarios S1-S4, over in-memory workers: no process, no timing.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Queue rules over in-memory workers")
struct InMemoryQueueRuleTests {
    @Test("rule 1, S1: priority first, FIFO among equals; one-shot: a fresh worker per task, named kind:slot:uid")
    func priorityFIFOAndOneShotWorkers() async throws {
        let specs = ["!5 echo:a", "!-1 echo:b", "echo:c", "!-1 echo:d", "!5 echo:e", "echo:f", "!-2147483648 echo:g", "echo:h"]
        let test = try InMemoryRun(chaos: specs, policy: .oneShot, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == specs.count)
        #expect(test.log.startOrder == [7, 2, 4, 3, 6, 8, 1, 5])
        // One worker per task, in order, each fresh, each retired (SIGKILL) after its one job.
        let workers = test.workers
        #expect(workers.map(\.name) == (0..<specs.count).map { "chaos:0:\($0)" })
        let expected: [[String]] = [7, 2, 4, 3, 6, 8, 1, 5].map { index in
            let action = specs[index - 1].split(separator: " ").last.map(String.init) ?? ""
            return ["F|" + action]
        }
        #expect(workers.map(\.requests) == expected)
        #expect(workers.allSatisfy { $0.wasKilled })
        #expect(Set(report.results.compactMap { $0.response?.pid }).count == specs.count)
        #expect(report.workersStarted == specs.count, "no worker is started after the last task")
    }

    @Test("S2, S4: a persistent worker serves every task; an obsolete task is skipped without touching it")
    func persistentWorkerAndObsoleteTask() async throws {
        let test = try InMemoryRun(chaos: ["echo:a", "obsolete", "echo:c"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let worker = try #require(test.workers.first)
        #expect(test.workers.count == 1)
        #expect(worker.requests == ["F|echo:a", "O:chaos|echo:c"])
        #expect(try report.result(2).outcome == .skipped)
        #expect(try report.result(2).attempts == 0)
        #expect(try report.result(3).response?.status == "O:chaos")
        // The run's end closes its input: it exits by itself (worker_fini) before anything kills it.
        #expect(worker.contacts.firstIndex(of: .inputClosed) == worker.requests.count)
        #expect(worker.ended == .exited(0))
        #expect(report.exitStatus == 0)
    }

    @Test("rule 2, S3: a follow-up goes to the worker that pushed it, as the very next request")
    func followUpOnTheSameWorker() async throws {
        let test = try InMemoryRun(chaos: ["followup:34", "echo:a", "echo:b", "echo:c"], .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 5)
        let parent = try #require(try report.result(1).response)
        let worker = try #require(test.workers.first { $0.pid == parent.pid })
        let index = try #require(worker.requests.firstIndex(of: "F|followup:34"))
        #expect(worker.requests[index + 1] == "O:held:\(parent.pid)|state:33@\(parent.pid)")
        let followUp = try #require(report.results.first { $0.parent == 1 })
        #expect(followUp.outcome == .done && followUp.response?.result == "state 33")
    }

    @Test("rule 2: a follow-up whose worker dies is orphaned: it fails once, and the run ends", arguments: [1, 2])
    func orphanedFollowUp(jobs: Int) async throws {
        let test = try InMemoryRun(chaos: ["followup-die:5", "echo:z"], .test(jobs: jobs, retries: 1))
        let report = try await test.startAndFinish()
        let followUp = try #require(report.results.first { $0.parent == 1 })
        #expect(followUp.outcome == .failed)
        #expect(followUp.message?.contains("no worker can take this task") == true)
        #expect(followUp.attempts == 1)
        // It died on the worker of its parent, which got SIGSEGV'd by the script: no other worker saw it.
        let carriers = test.workers.filter { $0.requests.contains { $0.contains("state-die:4@") } }
        #expect(carriers.count == 1)
        #expect(carriers.first?.ended == .signalled(SIGSEGV))
        #expect(try report.result(2).outcome == .done)
        #expect(report.exitStatus == 1)
    }

    @Test("rule 9: 2,000 tasks of every kind of fault end exactly once, in milliseconds", arguments: [1, 4])
    func everyTaskEndsOnce(jobs: Int) async throws {
        var generator = SeededGenerator(seed: 2026)
        let actions = ["echo", "echo", "echo", "segv", "badresp", "garbage", "feedback:3", "followup:2", "followup-die:2",
                       "obsolete", "marshal", "stay:w", "exit:3", "fail"]
        let specs = (0..<2_000).map { _ in actions.randomElement(using: &generator)! }
        let test = try InMemoryRun(chaos: specs, .test(jobs: jobs, retries: 1))
        let report = try await test.startAndFinish()
        // (expectInvariants, run by finish, checks exactly one end per queued task.)
        #expect(report.counts.total == report.results.count)
        let byAction = Dictionary(grouping: report.results.filter { $0.parent == nil }) { result in
            specs[Int(result.id) - 1]
        }
        #expect(byAction["echo"]?.allSatisfy { $0.outcome == .done } == true)
        #expect(byAction["segv"]?.allSatisfy { $0.outcome == .failed && $0.attempts == 2 } == true)
        #expect(byAction["obsolete"]?.allSatisfy { $0.outcome == .skipped } == true)
        #expect(byAction["badresp"]?.allSatisfy { $0.message?.contains("cannot decode request") == true } == true)
        #expect(byAction["garbage"]?.allSatisfy { $0.message?.contains("malformed frame") == true } == true)
        #expect(byAction["feedback:3"]?.allSatisfy { $0.message == "feedback 3 in order" } == true)
    }
}
