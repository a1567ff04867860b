// Feedback flows worker → master in order, strictly before the response (S11); stray prints in the
// worker do not corrupt the protocol; broadcasts flow master → every live worker.
import PluginHost
import TestSupport
import Testing

@Suite("Feedback and broadcast")
struct FeedbackTests {
    @Test("feedback:50 arrives in order and before the task ends (S11)")
    func feedbackInOrderBeforeEnd() async throws {
        let test = try TestRun(chaos: ["feedback:50", "feedback:3", "feedback:0"], policy: .persistent, .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(1).message == "feedback 50 in order")
        #expect(try report.result(2).message == "feedback 3 in order")
        #expect(try report.result(3).message == "feedback 0 in order")
        let kinds = test.log.kinds
        for (task, expected) in [(UInt64(1), 50), (2, 3), (3, 0)] {
            let feedback = kinds.indices.filter { if case .feedback(_, task, _) = kinds[$0] { true } else { false } }
            #expect(feedback.count == expected)
            let start = try #require(kinds.firstIndex { if case .taskStarted(task, _, _) = $0 { true } else { false } })
            let end = try #require(kinds.firstIndex { if case .taskEnded(task, _, _, _) = $0 { true } else { false } })
            #expect(feedback.allSatisfy { start < $0 && $0 < end }, "feedback of task \(task) between its start and its end")
            // Each feedback event names the worker that ran the task and the size of "fbN".
            let worker = try #require(test.log.workers(of: task).first)
            for (n, index) in feedback.enumerated() {
                #expect(kinds[index] == .feedback(worker: worker, task: task, bytes: "fb\(n + 1)".utf8.count))
            }
        }
        #expect(report.pluginReports.first?.text.contains("feedback 53") == true)
    }

    @Test("stdout:hello is done, and the line shows on captured worker stderr with the worker's name")
    func stdoutDoesNotCorruptProtocol() async throws {
        let test = try TestRun(chaos: ["stdout:hello from chaos", "echo:after"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.response?.result == "printed")
        #expect(try report.result(2).response?.status == "O:chaos", "the same worker carries on")
        let worker = try #require(test.log.workers(of: 1).first)
        // The pump thread may forward the line just after the run ended: wait for it.
        let entry = await test.log.waitForEntry("the printed line on stderr", timeout: 30) { entry in
            if case .stderr(let line) = entry { return line == "[\(worker)] hello from chaos" }
            return false
        }
        #expect(entry != nil)
    }

    @Test("broadcast:xyz reaches the persistent worker before its next request")
    func broadcastThenLastBroadcast() async throws {
        let test = try TestRun(chaos: ["lastbroadcast", "broadcast:xyz", "lastbroadcast", "broadcast:second", "lastbroadcast"],
                               policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).response?.result == "none")
        #expect(try report.result(3).response?.result == "xyz")
        #expect(try report.result(5).response?.result == "second")
        #expect(Set(try (1...5).map { try report.result(UInt64($0)).response?.pid }).count == 1)
    }

    @Test("a fresh worker started after a broadcast has not received it")
    func broadcastNotReplayedToNewWorkers() async throws {
        let test = try TestRun(chaos: ["broadcast:xyz", "lastbroadcast"], policy: .oneShot, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(2).response?.result == "none")
    }

    @Test("a 1 MiB request and response go through the pipes intact")
    func largePayloadRoundTrip() async throws {
        var generator = SeededGenerator(seed: 42)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let text = String((0..<(1 << 20)).map { _ in alphabet.randomElement(using: &generator)! })
        let test = try TestRun(chaos: ["echo:\(text)", "echo:small"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).response?.result == text)
        #expect(try report.result(2).response?.result == "small")
    }

    @Test("a worker busy in a long task does not stall the other workers when broadcasts pile up for it")
    func broadcastToBusyWorkerDoesNotStallOthers() async throws {
        // Task 1 sleeps 3 s on one worker and reads nothing meanwhile; the other worker answers
        // three broadcast tasks of 48 KiB each (more than a pipe holds) and then an echo.
        let big = String(repeating: "b", count: 48 << 10)
        let specs = ["sleep:3000"] + (1...3).map { "broadcast:\($0)\(big)" } + ["echo:after", "lastbroadcast", "lastbroadcast"]
        let test = try TestRun(chaos: specs, policy: .persistent, .test(jobs: 2))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 7)
        // Whichever worker runs them holds the last broadcast (the sleeping one gets all three, in order).
        #expect(try report.result(6).response?.result == "3\(big)")
        #expect(try report.result(7).response?.result == "3\(big)")
        let kinds = test.log.kinds
        let sleepEnd = try #require(kinds.firstIndex { if case .taskEnded(1, _, _, _) = $0 { true } else { false } })
        let echoEnd = try #require(kinds.firstIndex { if case .taskEnded(5, _, _, _) = $0 { true } else { false } })
        // (Found by this test: broadcasts were written with blocking writes from the responding
        // worker's slot thread, so a full pipe to the sleeping worker stalled the other one.)
        #expect(echoEnd < sleepEnd, "the echo waited for the unrelated 3 s sleep to end")
        #expect(test.log.workers(of: 5) != test.log.workers(of: 1), "the echo was left for the sleeping worker")
        // The sleeping worker still gets every broadcast, in order, before its next request.
        #expect(try report.result(1).outcome == .done)
    }
}
