// `--pull`: the plugin hands its tasks out lazily through pull(max) instead of queueing them all
// in master_open; the host pulls only while its queue is short.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Lazy input (pull) (in-memory workers)")
struct InMemoryLazyInputTests {
    /// The largest number of tasks queued but not yet started or ended, from the events.
    static func peakPending(_ log: EventLog) -> Int {
        var pending = Set<UInt64>()
        var peak = 0
        for kind in log.kinds {
            switch kind {
            case .taskQueued(let task, _, _, _): pending.insert(task); peak = max(peak, pending.count)
            case .taskStarted(let task, _, _): pending.remove(task)
            case .taskEnded(let task, _, _, _): pending.remove(task)
            default: break
            }
        }
        return peak
    }

    @Test("chaos --pull --repeat 1000 echo completes 1000 tasks, pulled a few at a time",
          arguments: [WorkerPolicy.persistent, .oneShot])
    func pullThousand(policy: WorkerPolicy) async throws {
        let jobs = 2
        let test = try TestRun.inMemory(chaos: ["--pull", "--repeat", "1000", "echo"], policy: policy, .test(jobs: jobs))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 1000)
        #expect(report.counts.total == 1000)
        #expect(test.log.queuedTasks == Array(1...1000))
        #expect(report.pluginReports.first?.text.hasPrefix("chaos: 1000 tasks, done 1000") == true)
        #expect(Self.peakPending(test.log) <= 2 * jobs, "the host must not pull the whole input at once")
        if policy == .persistent { #expect(report.workersStarted <= jobs) }
    }

    @Test("without --pull every task is queued before the first one starts")
    func eagerWithoutPull() async throws {
        let test = try TestRun.inMemory(chaos: ["--repeat", "20", "echo"], policy: .persistent, .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 20)
        #expect(Self.peakPending(test.log) == 20)
    }

    @Test("--pull with --repeat 0 is an empty run that ends at once")
    func pullNothing() async throws {
        let test = try TestRun.inMemory(chaos: ["--pull", "--repeat", "0", "echo"], .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.total == 0)
        #expect(report.workersStarted == 0)
        #expect(report.exitStatus == 0)
    }
}
