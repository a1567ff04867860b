// --halt (GNU parallel's semantics) over in-memory workers: when the counting rules halt, what
// happens to running and queued tasks (now vs soon), and the exit status.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Halt policies over in-memory workers")
struct InMemoryHaltTests {
    private func configuration(jobs: Int, halt: String) throws -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: jobs)
        configuration.halt = try HaltPolicy.parse(halt)
        return configuration
    }

    @Test("soon,fail=2: the second failure halts; no later task is sent, each ends cancelled 'halted'; exit 1")
    func soonFailCount() async throws {
        let test = try InMemoryRun(chaos: ["taskfail", "echo:a", "taskfail", "echo:b", "echo:c"], policy: .persistent,
                                   configuration(jobs: 1, halt: "soon,fail=2"))
        let report = try await test.startAndFinish()
        #expect(report.stop == .halted)
        #expect(report.counts.failed == 2 && report.counts.done == 1 && report.counts.cancelled == 2)
        for id: UInt64 in [4, 5] {
            #expect(try report.result(id).outcome == .cancelled && report.result(id).message == "halted")
            #expect(try report.result(id).attempts == 0)
        }
        #expect(test.workers.flatMap(\.requests).count == 3, "\(test.workers.map(\.requests))")
        #expect(report.exitStatus == 1)
    }

    @Test("fail=N counts a task its worker's death failed; the tasks the halt cancels do not count")
    func deathCountsAsFailure() async throws {
        var configuration = try configuration(jobs: 1, halt: "soon,fail=1")
        configuration.retries = 0
        let test = try InMemoryRun(chaos: ["echo:a", "segv", "echo:b", "echo:c"], configuration)
        let report = try await test.startAndFinish()
        #expect(try report.result(2).outcome == .failed)
        #expect(try report.result(3).outcome == .cancelled && report.result(3).message == "halted")
        #expect(report.counts.failed == 1 && report.counts.cancelled == 2)
    }

    @Test("now,fail=1: the running task is cancelled at once ('halted') and its worker gets SIGTERM")
    func nowCancelsRunning() async throws {
        let test = try InMemoryRun(chaos: ["hang", "taskfail", "echo:a", "echo:b"], configuration(jobs: 2, halt: "now,fail=1"))
        let report = try await test.startAndFinish()
        #expect(report.stop == .halted)
        #expect(try report.result(1).outcome == .cancelled && report.result(1).message == "halted")
        #expect(try report.result(2).outcome == .failed)
        #expect(try report.result(3).message == "halted" && report.result(4).message == "halted")
        let hung = try #require(test.workers.first { $0.requests == ["F|hang"] })
        #expect(hung.signals.first == SIGTERM)
        #expect(!test.workers.contains { $0.requests.contains { $0.hasSuffix("echo:a") || $0.hasSuffix("echo:b") } })
        #expect(report.exitStatus == 1)
    }

    @Test("soon,fail=1: the running task is left to run (no signal); a drain's timeout then ends it")
    func soonLetsRunningFinish() async throws {
        let test = try InMemoryRun(chaos: ["hang", "taskfail", "echo:a"], configuration(jobs: 2, halt: "soon,fail=1"))
        test.test.start()
        let queuedEnd = await test.log.waitForEnd(of: 3)
        if case .taskEnded(_, _, let outcome, let message)? = queuedEnd?.kind {
            #expect(outcome == .cancelled && message == "halted")
        } else {
            Issue.record("task 3 never ended")
        }
        let hung = try #require(test.workers.first { $0.requests == ["F|hang"] })
        #expect(hung.signals.isEmpty, "a soon halt signals no running worker")
        #expect(test.run.drain(timeout: 0) == 1)
        let report = try await test.finish()
        #expect(report.stop == .halted, "the halt's reason stays")
        #expect(try report.result(1).outcome == .cancelled)
        #expect(try report.result(1).message == "halted: still running after the drain timeout of 0.0 s")
        #expect(hung.signals.first == SIGTERM)
    }

    @Test("fail=P% halts once the failures are P % of the run's tasks (GNU parallel's rule), not of the tasks ended so far",
          arguments: [
              // 30 % of 10: the first failure is 100 % of the tasks ended but 10 % of the run; the third halts.
              ("30%", ["taskfail", "echo:1", "taskfail", "echo:2", "taskfail"], (failed: 3, done: 2, cancelled: 5)),
              // 25 % of 10 is 2.5 tasks: as in GNU parallel, the third failure halts, not the second.
              ("25%", ["taskfail", "taskfail", "echo:1", "taskfail"], (failed: 3, done: 1, cancelled: 6)),
          ])
    func percentOfAllTasks(_ percent: String, _ head: [String], _ expected: (failed: Int, done: Int, cancelled: Int)) async throws {
        let tasks = head + (head.count..<10).map { "echo:\($0)" }
        let test = try InMemoryRun(chaos: tasks, policy: .persistent, configuration(jobs: 1, halt: "soon,fail=" + percent))
        let report = try await test.startAndFinish()
        #expect(report.counts.failed == expected.failed && report.counts.done == expected.done)
        #expect(report.counts.cancelled == expected.cancelled)
        #expect(try report.result(UInt64(head.count + 1)).message == "halted")
    }

    @Test("success=N halts on the N-th done task and exits 0 when no task failed (GNU parallel's rule)")
    func successHaltExitsZero() async throws {
        let test = try InMemoryRun(chaos: ["echo:1", "echo:2", "echo:3", "echo:4"], policy: .persistent,
                                   configuration(jobs: 1, halt: "now,success=2"))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2 && report.counts.cancelled == 2)
        #expect(report.exitStatus == 0)
    }

    @Test("done=N counts every ended task; a failure before the halt still makes the exit status 1")
    func doneCountsEveryEnd() async throws {
        let test = try InMemoryRun(chaos: ["taskfail", "echo:1", "echo:2", "echo:3"], policy: .persistent,
                                   configuration(jobs: 1, halt: "soon,done=2"))
        let report = try await test.startAndFinish()
        #expect(report.counts.failed == 1 && report.counts.done == 1 && report.counts.cancelled == 2)
        #expect(report.exitStatus == 1)
    }

    @Test("a follow-up pushed after the halt ends 'halted' at once; a halt never met changes nothing")
    func followUpsAfterHaltAndUnmetHalt() async throws {
        // taskfail fails at once; every other request waits until the test answers it.
        let transport = InMemoryTransport(script: { worker, id, request in
            request.hasSuffix("|taskfail") ? ChaosWorkerScript.respond(worker, id, request) : [.hang]
        })
        let halted = try InMemoryRun(chaos: ["followup:2", "taskfail"], policy: .persistent,
                                     configuration(jobs: 2, halt: "soon,fail=1"), transport: transport)
        halted.test.start()
        let start = try #require(await halted.log.waitForStart(of: 1))
        let first = try #require(transport.worker(named: start.worker))
        _ = await halted.log.waitForEnd(of: 2)
        first.answer("pid=\(first.pid) F failed-at 2")
        let report = try await halted.finish()
        #expect(try report.result(1).outcome == .done)
        let followUp = try #require(report.results.first { $0.parent == 1 })
        #expect(followUp.outcome == .cancelled && followUp.message == "halted" && followUp.attempts == 0)

        let quiet = try InMemoryRun(chaos: ["echo:1", "taskfail", "echo:2"], policy: .persistent,
                                    configuration(jobs: 1, halt: "soon,fail=2"))
        let full = try await quiet.startAndFinish()
        #expect(full.stop == nil && full.counts.done == 2 && full.counts.failed == 1 && full.exitStatus == 1)
    }
}
