// Plugin discovery (issue 15): `NAME.so`, `libNAME.so`, `libNamePlugin.so` and versioned
// `libNAME.so.N` are all found by name; a shadowed plugin and a missing --plugin-path directory
// are one warning line each; an unknown name gets "did you mean". Before, only `lib*.so` was
// searched (`wordcount.so` was "no plugin named 'wordcount'"), and nothing was said of the rest.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Plugin discovery")
struct PluginDiscoveryTests {
    @Test("wordcount is found by name as wordcount.so, libwordcount.so, libWordcountPlugin.so, .so.1 and .so.1.2",
          arguments: ["wordcount.so", "libwordcount.so", "libWordcountPlugin.so", "libwordcount.so.1", "libwordcount.so.1.2"])
    func fileNames(fileName: String) async throws {
        let directory = TemporaryDirectory()
        let path = try TinyPlugin.compile(name: "wordcount", fileName: fileName, in: directory)
        let described = try await HostProcess.run(["describe", "--plugin-path", directory.path, "wordcount"])
        #expect(described.status == 0, "stderr: \(described.stderr)")
        #expect(described.stdout.hasPrefix("wordcount 1.0 (ABI 2.3"), "stdout: \(described.stdout)")
        #expect(described.stderr.isEmpty, "stderr: \(described.stderr)")
        let listed = try await HostProcess.run(["list", "--plugin-path", directory.path])
        #expect(listed.status == 0, "stderr: \(listed.stderr)")
        #expect(listed.stdout.split(separator: "\n").contains { $0.hasPrefix("wordcount ") && $0.hasSuffix(" " + path) },
                "stdout: \(listed.stdout)")
        // By path too, versioned or not.
        let byPath = try await HostProcess.run(["describe", path])
        #expect(byPath.status == 0 && byPath.stdout.hasPrefix("wordcount 1.0"), "stderr: \(byPath.stderr)")
    }

    @Test("the file naming rule: libraries and the names their files suggest")
    func namingRule() {
        for name in ["a.so", "libx.so", "libx.so.1", "libx.so.1.2", "x.so.10"] { #expect(PluginFileName.isLibrary(name), "\(name)") }
        for name in [".so", "x.so.", "x.so.1a", "x.soo", "x.so.1.", "libx.a", "x.so.d"] { #expect(!PluginFileName.isLibrary(name), "\(name)") }
        #expect(PluginFileName.suggests("/d/libChaosPlugin.so", plugin: "chaos"))
        #expect(PluginFileName.suggests("/d/libproof_check.so.2", plugin: "ProofCheck"))
        #expect(PluginFileName.suggests("/d/lib.so", plugin: "lib"))
        #expect(!PluginFileName.suggests("/d/libchaos.so", plugin: "chao"))
    }

    @Test("a shadowed plugin: one warning naming both files, the first on the path wins")
    func shadowed() async throws {
        let first = TemporaryDirectory(), second = TemporaryDirectory()
        let used = try TinyPlugin.compile(name: "wordcount", fileName: "wordcount.so", in: first)
        let versioned = try TinyPlugin.compile(name: "wordcount", fileName: "libwordcount.so.1", in: second)
        // The usual link to a versioned library: the same file, not a third copy (it sorts first,
        // so it is the name the warning gives).
        let shadowed = second.file("libwordcount.so")
        try #require(symlink(versioned, shadowed) == 0)
        let paths = ["--plugin-path", first.path, "--plugin-path", second.path]
        for command in [["describe"] + paths + ["wordcount"], ["list"] + paths] {
            let result = try await HostProcess.run(command)
            #expect(result.status == 0, "\(command[0]): stderr: \(result.stderr)")
            #expect(result.errorLines == ["plugin-host: warning: plugin 'wordcount' is in both \(used) and \(shadowed); using the first"],
                    "\(command[0]): stderr: \(result.stderr)")
        }
        let listed = try await HostProcess.run(["list"] + paths)
        let rows = listed.stdout.split(separator: "\n").filter { $0.hasPrefix("wordcount ") }
        #expect(rows.count == 1 && rows[0].hasSuffix(" " + used), "stdout: \(listed.stdout)")
        // Through the library: the same warning, and the first file is the one loaded.
        var warnings: [PluginCatalog.Warning] = []
        let library = try PluginCatalog(extraDirectories: [first.path, second.path]).load("wordcount") { warnings.append($0) }
        #expect(library.path == used)
        #expect(warnings == [.shadowed(name: "wordcount", used: used, shadowed: shadowed)])
    }

    @Test("a --plugin-path directory that does not exist: one warning line naming it")
    func missingDirectory() async throws {
        let directory = TemporaryDirectory()
        let missing = directory.file("no-such-directory")
        let listed = try await HostProcess.run(["list", "--plugin-path", missing])
        #expect(listed.status == 0, "stderr: \(listed.stderr)")
        #expect(listed.errorLines == ["plugin-host: warning: --plugin-path \(missing): no such directory"], "stderr: \(listed.stderr)")
        #expect(listed.stdout.contains("\nproofcheck "), "stdout: \(listed.stdout)")
        let run = try await HostProcess.run(["run", "-j", "1", "--plugin-path", missing, "chaos", "echo:x"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.errorLines.filter { $0.contains("warning") } == ["plugin-host: warning: --plugin-path \(missing): no such directory"],
                "stderr: \(run.stderr)")
    }

    @Test("an unknown plugin name: did you mean the closest one, exit 2")
    func didYouMean() async throws {
        let result = try await HostProcess.run(["run", "chaoss", "echo:x"])
        #expect(result.status == 2)
        #expect(result.errorLines == ["plugin-host: error: no plugin named 'chaoss' (did you mean 'chaos'?)"], "stderr: \(result.stderr)")
        let described = try await HostProcess.run(["describe", "Proof-Chek"])
        #expect(described.errorLines == ["plugin-host: error: no plugin named 'Proof-Chek' (did you mean 'proofcheck'?)"],
                "stderr: \(described.stderr)")
        // Nothing close: no guess, the directories searched instead.
        let far = try await HostProcess.run(["run", "zzzzzz", "echo:x"])
        #expect(far.status == 2)
        #expect(far.errorLines.count == 1 && far.stderr.contains("no plugin named 'zzzzzz' in ") && !far.stderr.contains("did you mean"),
                "stderr: \(far.stderr)")
    }

    @Test("edit distance and the closeness limit")
    func suggestionRule() {
        #expect(PluginNameSuggestion.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(PluginNameSuggestion.editDistance([], Array("abc")) == 3)
        #expect(PluginNameSuggestion.closest(to: "chaoss", among: ["proofcheck", "chaos", "parmap"]) == "chaos")
        #expect(PluginNameSuggestion.closest(to: "pramap", among: ["proofcheck", "chaos", "parmap"]) == "parmap")
        #expect(PluginNameSuggestion.closest(to: "x", among: ["chaos"]) == nil)
        #expect(PluginNameSuggestion.closest(to: "echo", among: ["echo-swift", "chaos"]) == nil)
    }
}
