// Damaged libraries on the plugin search path (issue 12, defect 3): a truncated copy of a plugin,
// a library whose constructor calls exit(0), one whose constructor crashes, and a FIFO named like
// a library. Before the fix, finding a plugin by name loaded every library of the path, so each
// of them killed or silently ended `plugin-host run` and `plugin-host list` (SIGBUS, SIGSEGV,
// exit 0 with nothing printed, a hang); a plugin file truncated while it was hashed faulted too.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A directory of damaged libraries, each named so that no plugin name suggests it.
struct DamagedLibraries {
    let directory = TemporaryDirectory()
    /// The first 3,000 bytes of the chaos plugin: its segments end past the end of the file.
    let truncated: String
    /// A library whose constructor calls exit(0).
    let exits: String
    /// A library whose constructor writes through a null pointer.
    let crashes: String
    /// A FIFO named like a library (dlopen would wait for a writer forever).
    let fifo: String

    var path: String { directory.path }
    var badFiles: [String] { [truncated, exits, crashes, fifo] }

    init() throws {
        truncated = directory.file("libx.so")
        let bytes = try #require(ProcessProbe.readFile(TestPaths.chaosPlugin))
        PluginDigestTests.writeBytes(Array(bytes.prefix(3000)), to: truncated)
        exits = try Self.compile("""
            #include <stdlib.h>
            __attribute__((constructor)) static void leave(void) { exit(0); }
            """, named: "libexits.so", in: directory)
        crashes = try Self.compile("""
            __attribute__((constructor)) static void crash(void) { *(volatile int *)0 = 1; }
            """, named: "libcrashes.so", in: directory)
        fifo = directory.file("libfifo.so")
        try #require(mkfifo(fifo, 0o600) == 0)
    }

    /// Builds `source` with `cc -shared -fPIC` (and `flags`) into `name` in `directory`; returns its path.
    static func compile(_ source: String, named name: String, in directory: TemporaryDirectory,
                        flags: [String] = []) throws -> String {
        let sourcePath = directory.write(name + ".c", source + "\n")
        let output = directory.file(name)
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-shared", "-fPIC"] + flags + ["-o", output, sourcePath]
        try compiler.run()
        compiler.waitUntilExit()
        try #require(compiler.terminationStatus == 0, "cc could not build \(name)")
        return output
    }
}

@Suite("Damaged plugins on the search path")
struct DamagedPluginTests {
    @Test("list: the good plugins, and one warning line naming each damaged library")
    func listSurvivesDamagedLibraries() async throws {
        let damaged = try DamagedLibraries()
        // The build directory named too: its test fixtures (chaos) are listed only then.
        let result = try await HostProcess.run(["list", "--plugin-path", damaged.path, "--plugin-path", TestPaths.binDirectory])
        #expect(!result.signalled, "stderr: \(result.stderr)")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("NAME") == true, "stdout: \(result.stdout)")
        #expect(rows.contains { $0.hasPrefix("chaos ") && $0.hasSuffix("/libChaosPlugin.so") }, "stdout: \(result.stdout)")
        #expect(rows.contains { $0.hasPrefix("proofcheck ") }, "stdout: \(result.stdout)")
        let warnings = result.errorLines.filter { $0.contains(damaged.path) }
        #expect(warnings.count == damaged.badFiles.count, "stderr: \(result.stderr)")
        for file in damaged.badFiles {
            #expect(warnings.filter { $0.contains(file + ":") }.count == 1, "no single warning for \(file): \(result.stderr)")
        }
        #expect(warnings.allSatisfy { $0.hasPrefix("plugin-host: warning: ") })
        #expect(warnings.contains { $0.contains("libx.so: damaged or incomplete shared library: the file is 3000 bytes") })
        #expect(warnings.contains { $0.contains("libexits.so: cannot load plugin: loading it ended the process (exit status 0)") })
        #expect(warnings.contains { $0.contains("libcrashes.so: cannot load plugin: loading it killed the process (SIGSEGV)") })
        #expect(warnings.contains { $0.contains("libfifo.so: damaged or incomplete shared library: not a regular file") })
    }

    @Test("run --plugin-path DIR chaos: no other library of DIR is loaded")
    func runLoadsOnlyThePluginAskedFor() async throws {
        let damaged = try DamagedLibraries()
        let result = try await HostProcess.run(["run", "-j", "1", "--plugin-path", damaged.path, "chaos", "echo:x"])
        #expect(!result.signalled, "stderr: \(result.stderr)")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("chaos: 1 tasks, done 1, failed 0"), "stdout: \(result.stdout)")
        let described = try await HostProcess.run(["describe", "--plugin-path", damaged.path, "chaos"])
        #expect(described.status == 0, "stderr: \(described.stderr)")
        #expect(described.stdout.hasPrefix("chaos 1.0.0"))
    }

    @Test("a plugin named by a path to a truncated file: one line naming it, exit 2, no signal")
    func truncatedPluginByPath() async throws {
        let damaged = try DamagedLibraries()
        for command in [["run", damaged.truncated, "echo:x"], ["describe", damaged.truncated]] {
            let result = try await HostProcess.run(command)
            #expect(!result.signalled, "\(command[0]): stderr: \(result.stderr)")
            #expect(result.status == 2, "\(command[0]): stderr: \(result.stderr)")
            #expect(result.errorLines.count == 1, "\(command[0]): stderr: \(result.stderr)")
            #expect(result.errorLines.first?.hasPrefix("plugin-host: error: \(damaged.truncated): damaged or incomplete "
                                                        + "shared library: the file is 3000 bytes") == true,
                    "stderr: \(result.stderr)")
        }
    }

    @Test("a plugin found by name through a probe when its file name does not say it")
    func pluginFoundByProbe() async throws {
        let directory = TemporaryDirectory()
        let bytes = try #require(ProcessProbe.readFile(TestPaths.chaosPlugin))
        PluginDigestTests.writeBytes(bytes, to: directory.file("libsomething-else.so"))
        let catalog = PluginCatalog(extraDirectories: [directory.path])
        // The search path's order decides: the extra directory comes before the executable's
        // (which has libChaosPlugin.so, named like the plugin), so its copy, found by a probe, wins.
        #expect(try catalog.load("chaos").path == directory.file("libsomething-else.so"))
        // Without it, the file named like the plugin is loaded directly.
        #expect(try PluginCatalog().load("chaos").path == TestPaths.chaosPlugin)
        // A name no file suggests ("future" is libFutureABIPlugin.so) is found through probes.
        let future = try catalog.load("future")
        #expect(future.name == "future" && future.path.hasSuffix("/libFutureABIPlugin.so"))
    }

    @Test("every truncation of a plugin file is refused before dlopen, never loaded")
    func everyTruncationIsRefused() throws {
        let bytes = try #require(ProcessProbe.readFile(TestPaths.chaosPlugin))
        #expect(SharedObjectFile.problem(atPath: TestPaths.chaosPlugin) == nil)
        let directory = TemporaryDirectory()
        let path = directory.file("libcut.so")
        var cuts = [0, 1, 4, 16, 63, 64, 100, 500, 3000, bytes.count / 2, bytes.count - 1]
        cuts += stride(from: 4096, to: bytes.count, by: 4096)
        for cut in cuts {
            PluginDigestTests.writeBytes(Array(bytes.prefix(cut)), to: path)
            #expect(SharedObjectFile.problem(atPath: path) != nil, "a cut at \(cut) bytes passed")
        }
        PluginDigestTests.writeBytes(Array(("#!/bin/sh\n" + String(repeating: "#", count: 100)).utf8), to: path)
        #expect(SharedObjectFile.problem(atPath: path) == "not an ELF file")
    }

    @Test("a plugin file truncated while it is hashed: no SIGBUS")
    func digestOfAFileThatShrinks() async {
        // In a child process: before the fix the file was mapped, and the fault killed the process.
        await #expect(processExitsWith: .success) {
            let directory = TemporaryDirectory()
            let path = directory.file("libshrinking.so")
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            precondition(fd >= 0 && ftruncate(fd, 16 << 20) == 0)
            let stop = StopFlag()
            let started = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                started.signal()
                // Shrinks to nothing and grows back to 16 MiB (sparse), over and over, staying a
                // while in each state so that a hash sees both.
                while !stop.isSet {
                    _ = ftruncate(fd, 0)
                    for _ in 0..<100 { sched_yield() }
                    _ = ftruncate(fd, 16 << 20)
                    for _ in 0..<100 { sched_yield() }
                }
                done.signal()
            }
            thread.start()
            started.wait()
            for _ in 0..<40 { _ = PluginDigest.ofFile(atPath: path) }
            stop.set()
            done.wait()
            close(fd)
        }
    }
}

