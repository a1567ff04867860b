import PluginHost
import Testing

/// The embedding API: tasks pushed from outside the plugin, with the run's input held open.
@Suite struct LibraryAPITests {
    @Test func pushedTasksRunWhileInputIsHeld() async throws {
        let test = try TestRun(chaos: [], policy: .persistent, .test(jobs: 1))
        #expect(test.run.holdInput())
        test.start()
        var ids: [UInt64] = []
        for index in 0..<3 {
            let id = try #require(test.run.push(Array("#\(100 + index) echo:outside-\(index)".utf8), toKind: "chaos"))
            ids.append(id)
        }
        #expect(test.run.push(Array("#9 echo:x".utf8), toKind: "no-such-kind") == nil)
        for id in ids { _ = await test.log.waitForEnd(of: id) }
        test.run.releaseInput()
        let report = try await test.finish()
        #expect(report.counts.done == 3)
        let messages = report.results.compactMap(\.message)
        for index in 0..<3 {
            #expect(messages.contains { $0.hasSuffix("outside-\(index)") }, "results: \(messages)")
        }
        #expect(test.run.push(Array("#9 echo:late".utf8), toKind: "chaos") == nil, "a finished run takes no tasks")
        #expect(!test.run.holdInput())
    }

    @Test func aRunWithoutHoldsEndsWhenItsQueuesDrain() async throws {
        let test = try TestRun(chaos: ["echo:a"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 1)
    }
}
