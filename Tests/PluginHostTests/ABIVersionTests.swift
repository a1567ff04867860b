// ABI versions: this host speaks 2.3 (2.0 plus "ph.task-failure/1", the loss reason out of memory in 2.2, "ph.checkpoint/1" in 2.3), loads any 2.x plugin and refuses every other major version
// (ABI 1.x included) with one line naming the file and both versions.
import PluginABI
import PluginHost
import PluginProtocol
import TestSupport
import Testing

@Suite struct ABIVersionTests {
    private static var futurePlugin: String { TestPaths.binDirectory + "/libFutureABIPlugin.so" }

    @Test func theHostAndOurPluginsSpeakABI2_3() throws {
        #expect(PluginLibrary.hostABI == (2, 3))
        #expect((PH_ABI_VERSION_MAJOR, PH_ABI_VERSION_MINOR) == (2, 3))
        let chaos = try PluginLibrary(path: TestPaths.chaosPlugin)
        #expect(chaos.abiVersion == "2.3")
        for plugin in ["libEchoSwiftPlugin.so", "libParMap.so", "libProofCheck.so"] {
            #expect(try PluginLibrary(path: TestPaths.binDirectory + "/" + plugin).abiVersion == "2.3", "\(plugin)")
        }
    }

    @Test func aPluginOfALaterMinorVersionLoadsAndRuns() async throws {
        let library = try PluginLibrary(path: Self.futurePlugin)
        #expect(library.name == "future")
        #expect(library.abiVersion == "2.4")
        let run = PluginRun(configuration: .test(jobs: 1))
        try run.addKind(library, arguments: ["alpha", "beta"])
        run.start()
        let report = await run.completion()
        #expect(report.counts.done == 2)
    }

    @Test("a plugin of another major version is refused with one line naming both versions",
          arguments: ["1.2", "1.0", "3.0"])
    func anotherMajorVersionIsRefused(declared: String) async throws {
        for command in [["describe", Self.futurePlugin], ["run", Self.futurePlugin, "alpha"]] {
            let result = try await HostProcess.run(command, environment: ["FUTURE_ABI_DECLARED": declared])
            #expect(!result.signalled && result.status == 2, "\(command[0]): stderr: \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(command[0]): stdout: \(result.stdout)")
            #expect(result.errorLines == ["plugin-host: error: \(Self.futurePlugin): plugin ABI version \(declared) "
                                          + "is not supported by this host (ABI 2.3)"],
                    "\(command[0]): stderr: \(result.stderr)")
        }
    }
}
