// A graceful drain (PluginRun.drain, what SIGTERM does) over in-memory workers: no task starts
// any more, running ones may finish within the drain's time, every other task ends cancelled
// "drained" exactly once, and the run ends through its usual end.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Drain over in-memory workers")
struct InMemoryDrainTests {
    /// The worker that started task `id`.
    private func worker(of id: UInt64, in test: InMemoryRun) async throws -> InMemoryWorker {
        let start = try #require(await test.log.waitForStart(of: id))
        return try #require(test.transport.worker(named: start.worker))
    }

    /// A busy worker's answer to chaos request `F|ACTION` (the chaos master takes any result).
    private func answer(_ worker: InMemoryWorker, _ result: String) {
        worker.answer("pid=\(worker.pid) F \(result)")
    }

    @Test("the running task finishes (its worker is not signalled); the queued ones end cancelled 'drained', never sent")
    func runningFinishesQueuedCancelled() async throws {
        let test = try InMemoryRun(chaos: ["hang", "echo:b", "echo:c"], policy: .persistent, .test(jobs: 1))
        test.test.start()
        let worker = try await worker(of: 1, in: test)
        #expect(test.run.drain() == 1)
        for id: UInt64 in [2, 3] { _ = await test.log.waitForEnd(of: id) }
        answer(worker, "finished")
        let report = try await test.finish()
        #expect(report.stop == .drained && !report.interrupted)
        #expect(try report.result(1).outcome == .done)
        for id: UInt64 in [2, 3] {
            #expect(try report.result(id).outcome == .cancelled && report.result(id).message == "drained")
            #expect(try report.result(id).attempts == 0)
        }
        #expect(test.workers.count == 1 && worker.requests == ["F|hang"])
        #expect(!worker.signals.contains(SIGTERM), "a drain leaves running workers alone: \(worker.contacts)")
        #expect(worker.contacts.contains(.inputClosed) && worker.ended == .exited(0),
                "a kept worker ends as at any run's end: \(worker.contacts)")
        #expect(report.exitStatus == 1)
    }

    @Test("after the drain's timeout a task still running is cancelled as a cancellation is: SIGTERM, then SIGKILL")
    func timeoutCancelsRunning() async throws {
        let test = try InMemoryRun(chaos: ["hang", "echo:b"], .test(jobs: 1))
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        #expect(test.run.drain(timeout: 0) == 1)
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled)
        #expect(try report.result(1).message == "drained: still running after the drain timeout of 0.0 s")
        #expect(try report.result(2).message == "drained")
        let worker = try #require(test.workers.first)
        #expect(worker.signals.first == SIGTERM && worker.ended == .signalled(SIGKILL))
    }

    @Test("follow-ups of a task finishing during the drain end 'drained' at once; a lost task is not retried")
    func followUpsAndLossesDuringDrain() async throws {
        // Every worker works until the test answers for it.
        let transport = InMemoryTransport(script: { _, _, _ in [.hang] })
        let test = try InMemoryRun(chaos: ["followup:2", "hang"], policy: .persistent, .test(jobs: 2, retries: 3),
                                   transport: transport)
        test.test.start()
        let first = try await worker(of: 1, in: test)
        let second = try await worker(of: 2, in: test)
        #expect(test.run.drain() == 2)
        answer(first, "failed-at 2")  // chaos answers stay with a state follow-up
        second.kill()
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .done)
        let followUp = try #require(report.results.first { $0.parent == 1 })
        #expect(followUp.outcome == .cancelled && followUp.message == "drained" && followUp.attempts == 0)
        let lost = try report.result(2)
        #expect(lost.outcome == .cancelled && lost.attempts == 1)
        #expect(lost.message?.hasPrefix("drained: not retried after: ") == true, "\(lost.message ?? "")")
        #expect(test.log.retries.isEmpty)
        #expect(test.workers.count == 2, "no worker starts during a drain")
    }

    @Test("cancel-all during a drain stops at once; drain after the end, and pushes during a drain, do nothing")
    func cancelAllDuringDrain() async throws {
        let test = try InMemoryRun(chaos: ["hang", "echo:b"], .test(jobs: 1))
        #expect(test.run.drain() == nil, "nothing to drain before the start")
        #expect(test.run.holdInput())
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        #expect(test.run.drain() == 1)
        #expect(test.run.push(Array("echo:late".utf8), toKind: "chaos") == nil)
        #expect(!test.run.holdInput())
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.interrupted && report.stop == .drained)
        #expect(try report.result(1).outcome == .cancelled && report.result(1).message == "cancelled")
        #expect(test.run.drain() == nil)
        #expect(report.counts.total == 2)
    }

    @Test("a run held open for outside pushes ends when drained")
    func heldRunEnds() async throws {
        let test = try InMemoryRun(chaos: ["echo:a"], .test(jobs: 1))
        #expect(test.run.holdInput())
        test.test.start()
        _ = await test.log.waitForEnd(of: 1)
        #expect(test.run.drain() == 0)
        let report = try await test.finish()
        #expect(report.stop == .drained && report.counts.done == 1)
    }
}
