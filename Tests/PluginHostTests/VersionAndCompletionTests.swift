// `plugin-host --version` and the shell completion of plugin names (the scripts call the host
// back with `---completion`), run as a separate process.
import PluginHost
import TestSupport
import Testing

@Suite("Version and completion")
struct VersionAndCompletionTests {
    @Test("--version: the host's version, the plugin ABI and the worker protocol, exit 0")
    func version() async throws {
        let result = try await HostProcess.run(["--version"])
        let abi = PluginLibrary.hostABI
        #expect(result.status == 0)
        #expect(result.stdout == "plugin-host \(HostVersion.number) (plugin ABI \(abi.major).\(abi.minor), "
                    + "worker protocol \(Hello.currentProtocolVersion))\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("the plugin argument of run and describe completes plugin names, filtered by what is typed")
    func pluginNames() async throws {
        for command in ["run", "describe"] {
            let all = try await HostProcess.run(["---completion", command, "--", "positional@0", "2", "0",
                                                 "plugin-host", command, ""])
            let names = all.stdout.split(separator: "\n").map(String.init)
            #expect(all.status == 0)
            #expect(names.contains("proofcheck") && names.contains("parmap") && names.contains("chaos"), "\(names)")
            let typed = try await HostProcess.run(["---completion", command, "--", "positional@0", "2", "3",
                                                   "plugin-host", command, "pro"])
            #expect(typed.stdout == "proofcheck\n")
        }
    }
}
