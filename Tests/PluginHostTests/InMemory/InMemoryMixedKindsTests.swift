// Several task kinds in one master share the worker budget (`jobs`): here the chaos plugin twice,
// once one-shot and once persistent.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Mixed kinds (in-memory workers)")
struct InMemoryMixedKindsTests {
    /// The largest number of worker processes alive at once, from the started/ended events.
    static func peakLiveWorkers(_ log: EventLog) -> Int {
        var live = 0
        var peak = 0
        for kind in log.kinds {
            if case .workerStarted = kind { live += 1; peak = max(peak, live) }
            if case .workerEnded = kind { live -= 1 }
        }
        return peak
    }

    @Test("a one-shot and a persistent kind share jobs 2; both complete", arguments: [1, 2, 3])
    func twoKindsShareJobs(jobs: Int) async throws {
        let test = TestRun.inMemory(.test(jobs: jobs))
        try test.addChaos((1...8).map { "echo:one-\($0)" }, policy: .oneShot)
        try test.addChaos((1...8).map { "echo:per-\($0)" }, policy: .persistent)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 16)
        #expect(report.pluginReports.count == 2)
        #expect(report.pluginReports.allSatisfy { $0.text.hasPrefix("chaos: 8 tasks, done 8") })
        let oneShot = report.results.filter { $0.response?.result.hasPrefix("one-") == true }
        let persistent = report.results.filter { $0.response?.result.hasPrefix("per-") == true }
        #expect(oneShot.count == 8 && persistent.count == 8)
        #expect(oneShot.allSatisfy { $0.response?.status == "F" })
        #expect(Set(oneShot.compactMap { $0.response?.pid }).count == 8, "one process per one-shot task")
        // Persistent workers are reused: every task after the first on a pid sees Old(chaos).
        let persistentPids = Set(persistent.compactMap { $0.response?.pid })
        #expect(persistent.filter { $0.response?.status == "O:chaos" }.count >= 8 - persistentPids.count)
        #expect(persistentPids.count < 8)
        #expect(Self.peakLiveWorkers(test.log) <= jobs, "never more live workers than jobs")
        // One-shot and persistent pids are disjoint: kinds never share a worker.
        #expect(persistentPids.isDisjoint(with: Set(oneShot.compactMap { $0.response?.pid })))
        #expect(report.workersStarted <= 8 + 8)
    }

    @Test("counts per kind add up to the run's counts")
    func countsByKindAddUp() async throws {
        let test = TestRun.inMemory(.test(jobs: 2))
        try test.addChaos(["echo:a", "fail:nope"], policy: .oneShot)
        try test.addChaos(["echo:b", "echo:c", "obsolete"], policy: .persistent)
        let report = try await test.startAndFinish()
        #expect(report.counts.total == 5)
        // (Regression: both kinds were named "chaos" and collapsed into one countsByKind entry.)
        let sum = report.countsByKind.values.reduce(0) { $0 + $1.total }
        #expect(sum == report.counts.total, "countsByKind: \(report.countsByKind)")
        #expect(report.countsByKind.count == 2)
        #expect(report.pluginReports.map(\.kind) == Array(report.countsByKind.keys).sorted())
        let first = try #require(report.countsByKind[report.pluginReports[0].kind])
        let second = try #require(report.countsByKind[report.pluginReports[1].kind])
        #expect(first.done == 1 && first.failed == 1)
        #expect(second.done == 2 && second.skipped == 1)
    }

    @Test("worker names are unique in the run even when two kinds come from the same plugin")
    func workerNamesUniqueAcrossKinds() async throws {
        // jobs 1: the first kind's only worker is chaos:0:0, and so is the second kind's.
        let test = TestRun.inMemory(.test(jobs: 1))
        try test.addChaos(["echo:a"], policy: .oneShot)
        try test.addChaos(["echo:b"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        let names = test.log.workersStarted.map(\.name)
        #expect(names.count == 2)
        // (Regression: both kinds were named "chaos", so both first workers were chaos:0:0.)
        #expect(Set(names).count == names.count, "names: \(names)")
        let kindNames = report.pluginReports.map(\.kind)
        #expect(Set(kindNames).count == 2, "kinds: \(kindNames)")
        // Each worker name starts with its kind's name.
        for (name, kind) in zip(names, kindNames) { #expect(name.hasPrefix(kind + ":"), "\(name) for \(kind)") }
    }

    @Test("jobs 1: a persistent kind's idle worker gives its slot to the other kind")
    func idleWorkerYieldsSlot() async throws {
        let test = TestRun.inMemory(.test(jobs: 1))
        try test.addChaos(["echo:p1", "echo:p2"], policy: .persistent)
        try test.addChaos(["echo:o1", "echo:o2"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 4)
        #expect(Self.peakLiveWorkers(test.log) == 1)
        #expect(test.log.workersEnded.contains { $0.reason.contains("its slot is needed by chaos") })
    }
}
