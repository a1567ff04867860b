// The master raises its soft limit on open descriptors to the hard limit when a run starts: each
// worker holds several pipes (spares double them), so a few hundred slots would otherwise meet
// EMFILE under a login session's usual soft limit of 1,024. Caused for real: the host runs under
// a soft limit of 64, which 16 slots exceed.
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("plugin-host: the limit on open descriptors")
struct DescriptorLimitCLITests {
    @Test("under a soft limit of 64 descriptors, 16 slots still start their workers (the soft limit is raised to the hard one)")
    func softLimitRaised() async throws {
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        guard limit.rlim_max >= 1024 else { return }  // (A hard limit this low leaves nothing to raise to.)
        let tasks = Array(repeating: "echo:x", count: 60)
        let result = try await HostProcess.run(["-c", "ulimit -Sn 64 && exec \"$0\" \"$@\"", TestPaths.pluginHost,
                                                "run", "-j", "16", "chaos"] + tasks, executable: "/bin/sh")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("60 tasks, 60 done"), "stderr: \(result.stderr)")
    }
}
