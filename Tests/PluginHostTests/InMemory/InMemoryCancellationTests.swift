// Rule 5 and Coq's S5, S6, S8 and S14 (cancellation) over in-memory workers.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Cancellation over in-memory workers")
struct InMemoryCancellationTests {
    @Test("S5, S6: a queued task cancelled is never sent; a running one ends at once and its worker gets SIGTERM")
    func cancelQueuedThenRunning() async throws {
        let test = try InMemoryRun(chaos: ["hang", "echo:b", "echo:c"], .test(jobs: 1))
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        #expect(test.run.cancel(task: 2))
        #expect(test.run.cancel(task: 1))
        #expect(!test.run.cancel(task: 1), "a task ends once")
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled)
        #expect(try report.result(2).outcome == .cancelled)
        #expect(try report.result(2).attempts == 0)
        #expect(try report.result(3).outcome == .done)
        #expect(!test.workers.contains { $0.requests.contains("F|echo:b") })
        let first = try #require(test.workers.first)
        #expect(first.signals.first == SIGTERM)
        #expect(first.requests == ["F|hang"])
        #expect(test.workers.last?.requests == ["F|echo:c"], "a fresh worker runs the next task")
    }

    @Test("a cancelled task's worker that answers its stop request late is still killed; the task stays cancelled")
    func lateAnswerAfterCancellation() async throws {
        // The worker answers "stopped" when asked to stop, as chaos's sleep does.
        let transport = InMemoryTransport(script: { worker, id, request in
            [.untilStopped([.send(.response, "pid=\(worker.pid) F stopped")])]
        })
        let test = try InMemoryRun(chaos: ["echo:slow", "echo:next"], .test(jobs: 1, killGracePeriod: 3_600),
                                   transport: transport)
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        #expect(test.run.cancel(task: 1))
        _ = await test.log.waitForStart(of: 2)
        #expect(test.run.cancel(task: 2))
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled && report.result(1).message == "cancelled")
        // The answer came; the slot ignored it and killed the worker at once (waiting for the
        // hour's grace period instead would make the run miss finish()'s deadline).
        let first = try #require(test.workers.first)
        #expect(first.signals == [SIGTERM, SIGKILL])
        #expect(first.ended == .signalled(SIGKILL))
    }

    @Test("S8: a busy worker cancelled by name: its task is lost as in a death and retried on a fresh worker")
    func cancelBusyWorker() async throws {
        // The first worker hangs; any later one answers.
        let transport = InMemoryTransport(script: { worker, id, request in
            worker.name == "chaos:0:0" ? [.hang] : ChaosWorkerScript.respond(worker, id, "F|echo:second")
        })
        let test = try InMemoryRun(chaos: ["hang"], .test(jobs: 1, retries: 1), transport: transport)
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        #expect(test.run.cancelWorker(named: "chaos:0:0"))
        #expect(!test.run.cancelWorker(named: "chaos:9:9"))
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(1).attempts == 2)
        #expect(test.log.retries.first?.reason == "worker chaos:0:0 was cancelled")
        #expect(test.workers.first?.signals.first == SIGTERM)
    }

    @Test("S14: cancel-all cancels queued and running tasks, ends every worker and starts no new one")
    func cancelAll() async throws {
        let test = try InMemoryRun(chaos: ["hang", "hang", "echo:c", "echo:d", "echo:e"], .test(jobs: 2))
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        _ = await test.log.waitForStart(of: 2)
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 5)
        #expect(report.interrupted)
        #expect(test.workers.count == 2)
        #expect(test.workers.allSatisfy { $0.signals.first == SIGTERM && $0.requests == ["F|hang"] })
    }
}
