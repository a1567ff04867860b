// Worker-side task failures ("ph.task-failure/1", the chaos action taskfail): the task fails with
// the plugin's message, is not retried and reaches no master callback; the worker is kept with
// its status. Compare MarshalErrorTests, where the worker is replaced.
import PluginHost
import PluginProtocol
import TestSupport
import Testing

@Suite("Worker-side task failures")
struct TaskFailureTests {
    @Test("persistent: the task fails with the plugin's message and the same Old worker serves the next task")
    func persistentWorkerIsKept() async throws {
        let test = try TestRun(chaos: ["echo:before", "taskfail:no such theorem: ax-1", "echo:after"],
                               policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let failed = try report.result(2)
        #expect(failed.outcome == .failed)
        #expect(failed.message == "no such theorem: ax-1")
        #expect(failed.attempts == 1)
        #expect(test.log.retries.isEmpty, "a task failure is the plugin's verdict: no retry")
        #expect(test.log.kinds.contains(.taskEnded(task: 2, kind: "chaos", outcome: .failed, message: "no such theorem: ax-1")))
        let before = try #require(try report.result(1).response)
        let after = try #require(try report.result(3).response)
        #expect(after.pid == before.pid, "the worker was kept")
        #expect(after.status == "O:chaos", "with its competence")
        #expect(report.workersStarted == 1)
        #expect(!test.log.workersEnded.contains { $0.reason.contains("marshal error") })
        let chaosReport = try #require(report.pluginReports.first?.text)
        #expect(chaosReport.contains("done 2, failed 1"), "report: \(chaosReport)")
        #expect(!chaosReport.contains("marshal errors"), "on_marshal_error is not called: \(chaosReport)")
        #expect(chaosReport.contains("lost 0"), "on_task_lost is not called: \(chaosReport)")
    }

    @Test("the plugin's own one-shot default: the Fresh worker stays Fresh and serves the next task")
    func oneShotWorkerStaysFresh() async throws {
        // (Chaos defaults to one-shot; no --policy, so the plugin's answers decide.)
        let test = try TestRun(chaos: ["taskfail", "echo:after"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        let failed = try report.result(1)
        #expect(failed.outcome == .failed)
        #expect(failed.message == "chaos: task failed")
        #expect(test.log.retries.isEmpty)
        let after = try #require(try report.result(2).response)
        #expect(after.status == "F")
        #expect(after.pid == test.log.workersStarted.first?.pid)
        #expect(report.workersStarted == 1)
        #expect(report.exitStatus != 0, "a failed task fails the run as any failure does")
    }

    @Test("--policy one-shot binds after a task failure too: the next task gets a fresh worker")
    func boundOneShotRetiresAfterTaskFailure() async throws {
        let test = try TestRun(chaos: ["taskfail", "echo:after"], policy: .oneShot, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .failed)
        #expect(test.log.retries.isEmpty)
        #expect(report.workersStarted == 2)
        #expect(test.log.workersEnded.first?.reason == "one-shot policy")
    }
}

/// The same through PluginKit in a real worker: echo-swift's worker throws `TaskFailure`.
@Suite struct PluginKitTaskFailureTests {
    @Test func aThrownTaskFailureFailsTheTaskAndKeepsTheWorker() async throws {
        let library = try PluginLibrary(path: TestPaths.binDirectory + "/libEchoSwiftPlugin.so")
        let run = PluginRun(configuration: .test(jobs: 1))
        try run.addKind(library, arguments: ["one", "taskfail", "two"], policy: .persistent)
        run.start()
        let report = try #require(await awaitReport(run, timeout: 60))
        #expect(report.counts.done == 2)
        #expect(report.counts.failed == 1)
        #expect(report.workersStarted == 1, "the worker was kept")
        let failed = try #require(report.results.first { $0.outcome == .failed })
        #expect(failed.name == "echo-swift#1")
        #expect(failed.message?.hasPrefix("task 1 failed as asked by ") == true, "\(failed.message ?? "nil")")
        #expect(failed.attempts == 1)
        #expect(report.pluginReports.first?.text.hasPrefix("echo-swift: 2 done, 1 failed, 0 feedback messages, 0 mismatched") == true)
    }
}
