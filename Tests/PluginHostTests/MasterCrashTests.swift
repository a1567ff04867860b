// A plugin that crashes in a master-side callback ends the host: non-zero status and one line
// naming the plugin and the callback, never the Swift runtime's "Program crashed" backtrace and
// never an exit 0 with the run carrying on (issue 12, defect 10).
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Master-side plugin crash")
struct MasterCrashTests {
    @Test("a SIGSEGV in a master callback: status 139 and one line naming plugin and callback",
          arguments: [("master-segv", "request_of_task"), ("master-segv:use_response", "use_response")])
    func crashInMasterCallback(task: String, callback: String) async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "chaos", task])
        #expect(result.status == 128 + SIGSEGV, "stderr: \(result.stderr)")
        #expect(result.errorLines == ["plugin-host: plugin 'chaos' crashed in \(callback) (SIGSEGV)"],
                "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Program crashed"))
        // The crashed host killed its workers but could not remove their (empty) cgroup
        // directory: the next run does.
        let tidy = try await HostProcess.run(["run", "-j", "1", "--quiet", "chaos", "echo"])
        #expect(tidy.status == 0, "stderr: \(tidy.stderr)")
    }
}
