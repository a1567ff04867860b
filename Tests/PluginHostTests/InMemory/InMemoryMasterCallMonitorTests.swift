// A master callback that holds the host (it runs under the scheduler's lock) gets one warning
// naming the plugin, the callback and the task, from a monitor that does not need that lock.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Master callbacks that hold the host (in-memory workers)")
struct InMemoryMasterCallMonitorTests {
    @Test("request_of_task sleeping 1.5 s: exactly one warning, naming chaos, the callback and the task")
    func slowRequestOfTaskWarnsOnce() async throws {
        let test = try TestRun.inMemory(chaos: ["echo:a", "master-sleep:1500", "echo:b"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 3)
        let warnings = test.log.stderrLines.filter { $0.contains("has held the host") }
        #expect(warnings.count == 1, "\(test.log.stderrLines)")
        let warning = try #require(warnings.first)
        #expect(warning.hasPrefix("plugin-host: warning: chaos: request_of_task has held the host for "), "\(warning)")
        #expect(warning.hasSuffix(" s (task 2)"), "\(warning)")
    }

    @Test("quick callbacks: no warning")
    func quickCallbacksAreQuiet() async throws {
        let test = try TestRun.inMemory(chaos: ["echo:a", "master-sleep:0", "echo:b"], .test(jobs: 1))
        _ = try await test.startAndFinish()
        #expect(!test.log.stderrLines.contains { $0.contains("has held the host") })
    }

    @Test("the warning's wording")
    func warningText() {
        let call = MasterCallMonitor.Call(plugin: "chaos", callback: "use_response", task: 7, start: 0)
        #expect(MasterCallMonitor.warning(call, held: 1_049_000_000)
                == "plugin-host: warning: chaos: use_response has held the host for 1.0 s (task 7)")
        let untasked = MasterCallMonitor.Call(plugin: "p", callback: "pull", task: nil, start: 0)
        #expect(MasterCallMonitor.warning(untasked, held: 2_360_000_000) == "plugin-host: warning: p: pull has held the host for 2.4 s")
    }
}
