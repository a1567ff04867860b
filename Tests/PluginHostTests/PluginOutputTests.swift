// What a plugin prints in `perform` with plain printf (no fflush) reaches the master's stderr,
// prefixed with the worker's name, even from a one-shot worker the host kills right after its
// answer (issue 15: such prints were lost in a fully buffered stdout).
import PluginHost
import PluginProtocol
import TestSupport
import Testing

@Suite("Plugin output")
struct PluginOutputTests {
    @Test("printf without fflush in perform is shown, one-shot and persistent, exec'd and forked workers",
          arguments: [WorkerPolicy.oneShot, .persistent], [false, true])
    func printfIsNotLost(policy: WorkerPolicy, forkServer: Bool) async throws {
        let test = try TestRun(chaos: ["printf:first line", "printf:second line"], policy: policy,
                               .test(jobs: 1, forkServer: forkServer))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        for (task, text) in [(UInt64(1), "first line"), (2, "second line")] {
            let worker = try #require(test.log.workers(of: task).first)
            // The pump thread may forward a line just after the run ended; a lost line fails here.
            let entry = await test.log.waitForEntry("'\(text)' from \(worker) on stderr", timeout: 30) { entry in
                if case .stderr(let line) = entry { return line == "[\(worker)] \(text)" }
                return false
            }
            #expect(entry != nil)
        }
    }

    @Test("Swift's print in a PluginKit worker is shown too, one-shot and persistent",
          arguments: [WorkerPolicy.oneShot, .persistent])
    func swiftPrintIsNotLost(policy: WorkerPolicy) async throws {
        let test = TestRun(.test(jobs: 1))
        let library = try PluginLibrary(path: TestPaths.binDirectory + "/libEchoSwiftPlugin.so")
        try test.run.addKind(library, arguments: ["print:from swift"], policy: policy)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 1)
        let worker = try #require(test.log.workers(of: 1).first)
        let entry = await test.log.waitForEntry("the printed line from \(worker) on stderr", timeout: 30) { entry in
            if case .stderr(let line) = entry { return line == "[\(worker)] from swift" }
            return false
        }
        #expect(entry != nil)
    }
}
