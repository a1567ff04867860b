// When `taskQueued` events go out: as tasks are queued, or late (just before a task first starts
// or ends) when every observer of them allows it (`taskQueuedLate`: the trace and the results).
@testable import PluginHost
import Synchronization
import TestSupport
import Testing

/// The events one observer got, in order.
private final class ObservedKinds: Sendable {
    private let kinds = Mutex<[HostEvent.Kind]>([])
    func record(_ event: HostEvent) { kinds.withLock { $0.append(event.kind) } }
    var all: [HostEvent.Kind] { kinds.withLock { $0 } }

    /// Each task's queued name, in the order the queued events came.
    var queued: [(task: UInt64, name: String?)] {
        all.compactMap { if case .taskQueued(let task, _, let name, _) = $0 { (task, name) } else { nil } }
    }

    /// The task each event is about (nil for other events).
    static func task(of kind: HostEvent.Kind) -> UInt64? {
        switch kind {
        case .taskQueued(let task, _, _, _), .taskStarted(let task, _, _), .taskEnded(let task, _, _, _): task
        default: nil
        }
    }
}

@Suite("Queued events, as queued or late (in-memory workers)")
struct InMemoryQueuedEventTests {
    /// Five tasks queued at once (the fourth obsolete: it ends without starting), one worker.
    static let specs = ["echo:a", "echo:b", "echo:c", "obsolete", "echo:e"]

    private static func run(observing categories: [HostEventCategories]) async throws -> [ObservedKinds] {
        let run = PluginRun(configuration: .test(jobs: 1), transport: InMemoryTransport())
        let observers = categories.map { categories in
            let observed = ObservedKinds()
            run.observe(categories) { observed.record($0) }
            return observed
        }
        try run.addKind(Chaos.library, arguments: specs, policy: .persistent)
        run.start()
        let report = try #require(await awaitReport(run, timeout: 90))
        #expect(report.counts.done == 4 && report.counts.skipped == 1)
        return observers
    }

    @Test("observers that allow it get each task's queued event just before its first start or its end, once")
    func lateWhenEveryObserverAllowsIt() async throws {
        let late: HostEventCategories = [.taskProgress, .taskEnds, .taskQueuedLate]
        for observed in try await Self.run(observing: [late, TraceFile.categories]) {
            let kinds = observed.all.filter { ObservedKinds.task(of: $0) != nil }
            #expect(observed.queued.map(\.task) == [1, 2, 3, 4, 5])
            #expect(observed.queued.map(\.name) == ["#0 echo:a", "#1 echo:b", "#2 echo:c", "#3 obsolete", "#4 echo:e"])
            for (index, kind) in kinds.enumerated() {
                guard case .taskQueued(let task, _, _, _) = kind else { continue }
                let next = kinds.dropFirst(index + 1).first
                let followed = next.map { next -> Bool in
                    switch next {
                    case .taskStarted(task, _, 1), .taskEnded(task, _, _, _): true
                    default: false
                    }
                } ?? false
                #expect(followed, "task \(task)'s queued event is followed by \(String(describing: next))")
            }
        }
    }

    @Test("with one observer that wants them as queued, every observer gets them as queued")
    func asQueuedWhenOneObserverWantsIt() async throws {
        let late: HostEventCategories = [.taskProgress, .taskEnds, .taskQueuedLate]
        for observed in try await Self.run(observing: [late, .all]) {
            let kinds = observed.all.filter { ObservedKinds.task(of: $0) != nil }
            #expect(observed.queued.map(\.task) == [1, 2, 3, 4, 5])
            // Queued all at once before the start: their five events come first.
            #expect(kinds.prefix(5).compactMap(ObservedKinds.task(of:)) == [1, 2, 3, 4, 5])
            #expect(kinds.prefix(5).allSatisfy { if case .taskQueued = $0 { true } else { false } })
        }
    }
}
