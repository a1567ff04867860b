// The end of a worker: at the end of a run the host closes the input of its idle workers, so the
// plugin's worker_fini (PluginKit: TaskWorker.finish()) runs; a worker the host kills never runs it.
//
// echo-swift's finish hook writes ECHO_SWIFT_FINISH_TRACE/<worker name> holding the number of
// requests the worker performed. The variable reaches the workers through a wrapper script given
// as the worker executable, so this process's environment is left alone.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

@Suite struct WorkerFinishTests {
    /// A directory for the traces and a worker executable that sets the variable naming it.
    private struct Traced {
        let directory = TemporaryDirectory()
        var traces: String { directory.file("traces") }
        let worker: String

        init() throws {
            worker = directory.write("worker", "#!/bin/sh\nECHO_SWIFT_FINISH_TRACE='\(directory.file("traces"))' "
                                     + "exec '\(TestPaths.pluginWorker)' \"$@\"\n")
            try FileManager.default.createDirectory(atPath: directory.file("traces"), withIntermediateDirectories: false)
        }

        /// The traces the finish hooks wrote: worker name -> requests performed.
        func read() throws -> [String: Int] {
            var found: [String: Int] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: traces) {
                found[name] = Int(String(decoding: ProcessProbe.readFile(traces + "/" + name) ?? [], as: UTF8.self).dropLast())
            }
            return found
        }
    }

    private static var echoSwift: PluginLibrary {
        get throws { try PluginLibrary(path: TestPaths.binDirectory + "/libEchoSwiftPlugin.so") }
    }

    @Test func workersIdleAtTheEndOfARunRunTheirFinishHook() async throws {
        let traced = try Traced()
        let test = TestRun(.test(jobs: 2, workerExecutable: traced.worker))
        let words = ["a", "b", "c", "d", "e", "f"]
        try test.run.addKind(Self.echoSwift, arguments: words)
        // Held input keeps the run going once every task is done, so that every worker is idle
        // when the release ends the run (the next test covers the worker whose response ends it).
        #expect(test.run.holdInput())
        test.start()
        for task in 1...UInt64(words.count) { await test.log.waitForEnd(of: task) }
        test.run.releaseInput()
        let report = try await test.finish()
        #expect(report.counts.done == words.count)
        let traces = try traced.read()
        #expect(Set(traces.keys) == Set(test.log.workersStarted.map(\.name)), "every worker ended cleanly: \(traces)")
        #expect(traces.values.reduce(0, +) == words.count, "\(traces)")
    }

    /// The response that ends the run comes from a worker that is still busy when the run
    /// drains: it must be read to its end and run its finish hook too, not be killed (it was,
    /// before the slot learned to tell a clean shutdown from a kill).
    @Test(arguments: [1, 2])
    func theWorkerWhoseResponseEndsTheRunRunsItsFinishHook(jobs: Int) async throws {
        let traced = try Traced()
        let test = TestRun(.test(jobs: jobs, workerExecutable: traced.worker))
        let words = ["a", "b", "c", "d", "e", "f"]
        try test.run.addKind(Self.echoSwift, arguments: words, policy: .persistent)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == words.count)
        let last = try #require(test.log.starts.last?.worker, "the worker that answered last")
        let traces = try traced.read()
        #expect(traces[last] != nil, "\(last) ended without its finish hook: \(traces)")
        #expect(Set(traces.keys) == Set(test.log.workersStarted.map(\.name)), "every worker ended cleanly: \(traces)")
        #expect(traces.values.reduce(0, +) == words.count, "\(traces)")
    }

    @Test func killedWorkersDoNotRunTheirFinishHook() async throws {
        // One-shot: each worker is killed (retired) once its response is in.
        let traced = try Traced()
        let test = TestRun(.test(jobs: 2, workerExecutable: traced.worker))
        try test.run.addKind(Self.echoSwift, arguments: ["a", "b", "c", "d"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 4)
        #expect(test.log.workersStarted.count >= 4)
        // No worker that performed a request left a trace (a worker started ahead and never
        // used would be idle at the end, and so end cleanly).
        let traces = try traced.read()
        #expect(traces.values.allSatisfy { $0 == 0 }, "\(traces)")
    }
}
