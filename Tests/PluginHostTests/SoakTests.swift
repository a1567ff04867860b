// Soak: 2,000 chaos tasks over two kinds (one-shot and persistent) with jobs 2 and retries 3,
// while a helper kills a random live worker with SIGKILL every ~5 ms. Afterwards every task has
// ended exactly once, the counts add up, and no worker process is left.
import PluginHost
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The live workers of a run (name → pid), kept from its events.
final class LiveWorkers: Sendable {
    private let workers = Mutex<[String: Int32]>([:])
    private let kills = Mutex(0)

    func observe(_ event: HostEvent) {
        switch event.kind {
        case .workerStarted(let name, let pid, _): workers.withLock { $0[name] = pid }
        case .workerEnded(let name, _): workers.withLock { _ = $0.removeValue(forKey: name) }
        default: break
        }
    }

    var snapshot: [(name: String, pid: Int32)] { workers.withLock { $0.map { ($0.key, $0.value) } }.sorted { $0.name < $1.name } }

    func recordKill() { kills.withLock { $0 += 1 } }
    var killCount: Int { kills.withLock { $0 } }
}

/// A flag one thread sets and another polls.
final class StopFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

@Suite("Soak", .serialized)
struct SoakTests {
    static func specs(prefix: String, count: Int) -> [String] {
        (0..<count).map { $0 % 10 == 9 ? "sleep:2" : "echo:\(prefix)-\($0)" }
    }

    @Test("2,000 tasks, two kinds, a worker SIGKILLed every ~5 ms: every task ends once, nothing is left")
    func soakWithRandomKills() async throws {
        let test = TestRun(.test(jobs: 2, retries: 3))
        try test.addChaos(Self.specs(prefix: "one", count: 1_000), policy: .oneShot)
        try test.addChaos(Self.specs(prefix: "per", count: 1_000), policy: .persistent)
        let live = LiveWorkers()
        test.run.observe { live.observe($0) }
        let finished = StopFlag()

        // The killer runs on its own thread so that its ~5 ms rhythm does not depend on the Swift
        // concurrency pool (other tests may keep it busy).
        let log = test.log
        let killer = Reaction { () -> Int in
            var generator = SeededGenerator(seed: 0x50A4)
            while !finished.isSet {
                if let victim = live.snapshot.randomElement(using: &generator),
                   log.signal(worker: victim.name) {
                    live.recordKill()
                }
                usleep(5_000)
            }
            return live.killCount
        }
        test.start()
        let report = try await test.finish(timeout: 90)
        finished.set()
        _ = await killer.value

        #expect(report.counts.total == 2_000)
        #expect(report.counts.done + report.counts.failed == 2_000, "only done or failed: \(report.counts)")
        #expect(report.countsByKind.count >= 1)
        #expect(live.killCount > 0, "the killer must have hit some workers")
        #expect(!test.log.retries.isEmpty, "kills cause retries")
        // Failed tasks are those whose worker died on all 4 attempts.
        for result in report.results where result.outcome == .failed {
            #expect(result.attempts == 4, "task \(result.id): \(result.message ?? "")")
            #expect(result.message?.contains("worker died 4 time(s)") == true)
        }
        for result in report.results where result.outcome == .done {
            #expect(result.attempts >= 1 && result.attempts <= 4)
        }
        // Every worker ever seen is gone (finish() checked each pid; check the live map too).
        #expect(live.snapshot.isEmpty)
        #expect(test.run.workerNames.isEmpty)
        print("soak: \(report.counts), \(report.workersStarted) workers, \(live.killCount) kills, \(test.log.retries.count) retries, \(report.elapsed) s")
    }
}
