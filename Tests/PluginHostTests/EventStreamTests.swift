// The event stream: what an embedding program (or `--events`) sees, in order, once per fact.
import PluginHost
import TestSupport
import Testing

@Suite("Event stream")
struct EventStreamTests {
    @Test("events() yields every event in order and finishes when the run ends")
    func asyncEventSequence() async throws {
        let run = PluginRun(configuration: .test(jobs: 1))
        let stream = run.events()
        try run.addKind(Chaos.library, arguments: ["echo:a", "segv", "feedback:2"], policy: .persistent)
        run.start()
        var kinds: [HostEvent.Kind] = []
        var times: [Double] = []
        for await event in stream {
            kinds.append(event.kind)
            times.append(event.time)
        }
        let report = await run.completion()
        #expect(report.counts.total == 3)
        let ended = kinds.compactMap { kind -> UInt64? in if case .taskEnded(let task, _, _, _) = kind { task } else { nil } }
        #expect(ended.sorted() == [1, 2, 3], "each task ends exactly once")
        #expect(kinds.contains { if case .taskRetried(2, _) = $0 { true } else { false } })
        #expect(times == times.sorted(), "event times never go back")
        let queued = kinds.filter { if case .taskQueued = $0 { true } else { false } }
        #expect(queued.count == 3)
    }

    @Test("an observer added after addKind but before start() sees the initial taskQueued events")
    func observerAfterAddKindSeesQueuedTasks() async throws {
        // PluginRun.observe: "Add observers before start() to see every event."
        let run = PluginRun(configuration: .test(jobs: 1))
        try run.addKind(Chaos.library, arguments: ["echo:a", "echo:b"])
        let log = EventLog()
        run.observe { log.record(.event($0)) }
        run.start()
        let report = try #require(await awaitReport(run, timeout: 60))
        #expect(report.counts.done == 2)
        #expect(log.kinds.filter { if case .taskEnded = $0 { true } else { false } }.count == 2)
        // (Regression: addKind emitted taskQueued at once, before observers added later could see it.)
        #expect(log.queuedTasks == [1, 2])
        expectInvariants(report, log)
    }
}
