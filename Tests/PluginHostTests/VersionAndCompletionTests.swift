// `plugin-host --version`, the shell completion of plugin names (the scripts call the host back
// with `---completion`), and the test fixtures left out of a build's `list`, run as a process.
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
            #expect(names.contains("proofcheck") && names.contains("parmap") && !names.contains("chaos"), "\(names)")
            // A --plugin-path already typed is searched: the build directory, named, shows the fixtures.
            let searched = try await HostProcess.run(["---completion", command, "--", "positional@0", "4", "0",
                                                      "plugin-host", command, "--plugin-path", TestPaths.binDirectory, ""])
            #expect(searched.stdout.split(separator: "\n").contains("chaos"), "\(searched.stdout)")
            let typed = try await HostProcess.run(["---completion", command, "--", "positional@0", "2", "3",
                                                   "plugin-host", command, "pro"])
            #expect(typed.stdout == "proofcheck\n")
        }
    }

    @Test("list leaves the test fixtures beside the executable out; they still run by name")
    func fixturesHidden() async throws {
        let result = try await HostProcess.run(["list"])
        let names = result.stdout.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(result.status == 0)
        #expect(names.contains("proofcheck") && names.contains("parmap"), "\(names)")
        for fixture in ["chaos", "echo-swift", "future"] { #expect(!names.contains(fixture), "\(names)") }
        let run = try await HostProcess.run(["run", "-j", "1", "chaos", "echo:a"])
        #expect(run.status == 0, "\(run.stderr)")
    }
}
