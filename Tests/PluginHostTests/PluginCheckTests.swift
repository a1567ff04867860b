// `plugin-host check FILE` (issue 15): loads a plugin as safely as `list` does (complete-ELF
// check, then a probe process), validates its descriptor and prints what the host sees, or one
// line per problem and exit 2.
import PluginHost
import PluginProtocol
import TestSupport
import Testing

@Suite("plugin-host check")
struct PluginCheckTests {
    @Test("the chaos fixture: what the host sees, exit 0")
    func chaos() async throws {
        let result = try await HostProcess.run(["check", TestPaths.chaosPlugin])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let library = try PluginLibrary(path: TestPaths.chaosPlugin)
        for expected in ["file        \(TestPaths.chaosPlugin)", "name        chaos", "version     1.0.0",
                         "ABI         2.3 (host 2.3)", "policy      one-shot (default)",
                         "required    master_open request_of_task use_response perform",
                         "absent      worker_fini", "extensions  ph.journal/1",
                         "digest      \(PluginDigest.hex(library.digest))", "usage"] {
            #expect(lines.contains(expected), "no line '\(expected)' in: \(result.stdout)")
        }
        #expect(lines.contains { $0.hasPrefix("optional    pull task_match ") && $0.hasSuffix(" on_broadcast get_extension") })
        #expect(lines.contains { $0.hasPrefix("build id    ") && $0.count > 20 })
        #expect(lines.contains("  chaos [--file PATH]... [--repeat N] [--pull] [--] TASK..."))
    }

    @Test("every plugin built beside the host passes")
    func bundledPlugins() async throws {
        for file in ["libProofCheck.so", "libEchoSwiftPlugin.so", "libParMap.so", "libFutureABIPlugin.so"] {
            let result = try await HostProcess.run(["check", TestPaths.binDirectory + "/" + file])
            #expect(result.status == 0, "\(file): stderr: \(result.stderr)")
        }
    }

    @Test("a library without the entry symbol, damaged ones: one line each, exit 2, no signal")
    func notPlugins() async throws {
        let damaged = try DamagedLibraries()
        let plain = try DamagedLibraries.compile("int answer(void) { return 42; }", named: "libplain.so", in: damaged.directory)
        let expected = [
            plain: "\(plain): not a PluginHost plugin (no plugin_host_entry symbol)",
            damaged.truncated: "\(damaged.truncated): damaged or incomplete shared library: the file is 3000 bytes",
            damaged.exits: "\(damaged.exits): cannot load plugin: loading it ended the process (exit status 0)",
            damaged.crashes: "\(damaged.crashes): cannot load plugin: loading it killed the process (SIGSEGV)",
            damaged.fifo: "\(damaged.fifo): damaged or incomplete shared library: not a regular file",
        ]
        for (file, message) in expected {
            let result = try await HostProcess.run(["check", file])
            #expect(!result.signalled, "\(file): stderr: \(result.stderr)")
            #expect(result.status == 2, "\(file): stderr: \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(result.errorLines.count == 1 && result.errorLines[0].hasPrefix("plugin-host: error: \(message)"),
                    "\(file): stderr: \(result.stderr)")
        }
    }

    @Test("a plugin missing required callbacks: one line per callback, exit 2")
    func missingCallbacks() async throws {
        let directory = TemporaryDirectory()
        let path = try TinyPlugin.compile(name: "Bad Name", fileName: "libbad.so", in: directory,
                                          omitting: ["use_response", "perform"])
        let result = try await HostProcess.run(["check", path])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.errorLines == [
            "plugin-host: error: \(path): invalid plugin descriptor: name 'Bad Name' is not made of a-z, 0-9, '_' and '-'",
            "plugin-host: error: \(path): invalid plugin descriptor: required callback use_response is NULL",
            "plugin-host: error: \(path): invalid plugin descriptor: required callback perform is NULL",
        ], "stderr: \(result.stderr)")
        // A valid one built the same way passes.
        let good = try TinyPlugin.compile(name: "tiny", fileName: "libtiny.so", in: directory)
        let passed = try await HostProcess.run(["check", good])
        #expect(passed.status == 0, "stderr: \(passed.stderr)")
        #expect(passed.stdout.contains("\nname        tiny\n") && passed.stdout.contains("\noptional    none\n"), "stdout: \(passed.stdout)")
    }
}
