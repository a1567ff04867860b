// Queue rules: lower priority values first, FIFO among equals; `request_of_task` saying the task
// is obsolete skips it without touching the worker (S4).
@testable import PluginHost
import TestSupport
import Testing

@Suite("Queue order (in-memory workers)")
struct InMemoryQueueOrderTests {
    @Test("priority first, FIFO among equal priorities (jobs 1)", arguments: [WorkerPolicy.oneShot, .persistent])
    func priorityThenFIFO(policy: WorkerPolicy) async throws {
        let specs = ["!5 echo:a", "!-1 echo:b", "echo:c", "!-1 echo:d", "!5 echo:e", "echo:f", "!-2147483648 echo:g", "echo:h"]
        let test = try TestRun.inMemory(chaos: specs, policy: policy, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == specs.count)
        #expect(test.log.startOrder == [7, 2, 4, 3, 6, 8, 1, 5])
        // Ids follow queue order and the plugin's names show its own numbering.
        let names = test.log.kinds.compactMap { kind -> String? in
            if case .taskQueued(_, _, let name, _) = kind { return name } else { return nil }
        }
        #expect(test.log.queuedTasks == Array(1...UInt64(specs.count)))
        #expect(names.first == "#0 echo:a")
        #expect(names.last == "#7 echo:h")
        // Each result's echo text matches its spec.
        for (index, spec) in specs.enumerated() {
            let result = try report.result(UInt64(index + 1))
            #expect(result.response?.result == String(spec.split(separator: ":").last!))
        }
    }

    @Test("an obsolete task is skipped; the worker stays and runs the next task (S4)")
    func obsoleteTaskIsSkipped() async throws {
        let test = try TestRun.inMemory(chaos: ["echo:a", "obsolete", "echo:c"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let skipped = try report.result(2)
        #expect(skipped.outcome == .skipped)
        #expect(skipped.attempts == 0)
        #expect(skipped.message?.contains("no longer valid") == true)
        #expect(test.log.workers(of: 2).isEmpty, "an obsolete task is never sent to a worker")
        let first = try #require(try report.result(1).response)
        let third = try #require(try report.result(3).response)
        #expect(third.pid == first.pid, "the worker was not restarted")
        #expect(third.status == "O:chaos")
        #expect(report.workersStarted == 1)
        // No worker ended before the last task did.
        let lastEnd = try #require(test.log.index { if case .taskEnded(3, _, _, _) = $0 { true } else { false } })
        let firstWorkerEnd = test.log.index { if case .workerEnded = $0 { true } else { false } }
        #expect(firstWorkerEnd.map { $0 > lastEnd } ?? false)
        #expect(report.exitStatus == 0, "skipped tasks do not make the run fail")
        #expect(report.counts.skipped == 1 && report.counts.done == 2)
    }

    /// With one worker, the obsolete tasks are skipped by the only dispatch there is: that
    /// dispatch must also pull the kind's remaining input (found hanging: once in a CI run with
    /// two workers, every time with one).
    @Test("a run of only obsolete tasks ends with every task skipped and exit status 0", arguments: [1, 2])
    func onlyObsoleteTasks(jobs: Int) async throws {
        let test = try TestRun.inMemory(chaos: ["obsolete", "obsolete", "obsolete"], .test(jobs: jobs))
        let report = try await test.startAndFinish()
        #expect(report.counts.skipped == 3)
        #expect(report.exitStatus == 0)
        #expect(test.log.starts.isEmpty)
        #expect(report.workersStarted <= 2)
    }
}
