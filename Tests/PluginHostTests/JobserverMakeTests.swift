// Under a real `make -jN` two hosts share make's job slots through its jobserver: never more
// workers alive together than N (counted by the chaos workers themselves, CHAOS_LIVE_DIR), each
// host still finishes when make has no token to spare, and make gets every token back (it says
// "INTERNAL: Exiting with N jobserver tokens" otherwise), also when a host fails.
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("make's jobserver", .enabled(if: access("/usr/bin/make", X_OK) == 0))
struct JobserverMakeTests {
    /// Runs `make -jJOBS` on two recipes (or one), each a host with `-j 4` and `tasks`, in `directory`.
    private func runMake(jobs: Int, tasks: [String], keepGoing: Bool = false, oneRecipe: Bool = false,
                         in directory: TemporaryDirectory) throws -> (status: Int32, stderr: String, mostAlive: Int?) {
        let live = directory.file("live")
        _ = mkdir(live, 0o755)
        let host = "CHAOS_LIVE_DIR='\(live)' '\(TestPaths.pluginHost)' run --quiet -j 4 chaos " + tasks.map { "'\($0)'" }.joined(separator: " ")
        let makefile = directory.write("Makefile", "all: a\(oneRecipe ? "" : " b")\na:\n\t+\(host) > a.out\nb:\n\t+\(host) > b.out\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        process.arguments = ["-s", "-j\(jobs)", "-f", makefile, "-C", directory.path] + (keepGoing ? ["-k"] : [])
        var environment = ProcessInfo.processInfo.environment
        for name in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL"] { environment[name] = nil }
        process.environment = environment
        let errors = directory.write("make.stderr", "")
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: ProcessProbe.readFile(errors) ?? [], as: UTF8.self)
        let most = ProcessProbe.readFile(live + "/max").flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
        return (process.terminationStatus, stderr, most)
    }

    @Test("make -j3, two hosts of -j 4 at once: at most 3 workers alive together; make -j2: at most 2, and both finish",
          arguments: [3, 2])
    func twoHostsShareMakesSlots(jobs: Int) throws {
        let directory = TemporaryDirectory()
        let tasks = Array(repeating: "sleep:150", count: 6)
        let (status, stderr, most) = try runMake(jobs: jobs, tasks: tasks, in: directory)
        #expect(status == 0, "make: \(stderr)")
        #expect(!stderr.contains("jobserver tokens"), "make lost tokens: \(stderr)")
        let alive = try #require(most)
        #expect(alive >= 1 && alive <= jobs, "most workers alive at once: \(alive) under make -j\(jobs)")
        for output in ["a.out", "b.out"] {
            let text = String(decoding: ProcessProbe.readFile(directory.file(output)) ?? [], as: UTF8.self)
            #expect(text.contains("chaos: 6 tasks, done 6, failed 0"), "\(output): \(text)")
        }
    }

    @Test("a host whose tasks fail gives its tokens back: make -k ends with every token")
    func failingHostReturnsTokens() throws {
        let directory = TemporaryDirectory()
        let (status, stderr, most) = try runMake(jobs: 3, tasks: ["sleep:100", "segv", "sleep:100", "abort", "sleep:100"],
                                                 keepGoing: true, in: directory)
        #expect(status == 2, "make: \(stderr)")  // Both recipes failed (exit 1 each).
        #expect(!stderr.contains("jobserver tokens"), "make lost tokens: \(stderr)")
        #expect((most ?? 0) <= 3)
    }

    @Test("MAKEFLAGS naming descriptors make did not pass (no '+' on the recipe line): one warning, then -j as usual")
    func unusableJobserverWarnsOnce() async throws {
        let result = try await HostProcess.run(["run", "-j", "2", "chaos", "echo:a", "echo:b"],
                                               environment: ["MAKEFLAGS": " -j3 --jobserver-auth=900,901"])
        #expect(result.status == 0)
        let warnings = result.errorLines.filter { $0.contains("jobserver") }
        #expect(warnings == ["plugin-host: warning: MAKEFLAGS names the jobserver pipe 900,901, but descriptor 900 is not an open pipe "
                             + "here (make passes it only to a recipe line that starts with '+' or runs $(MAKE)); going on without make's jobserver"],
                "stderr: \(result.stderr)")
    }

    @Test("a plugin's crash in the master, with tokens held: the crash guard gives them back before the host dies")
    func crashedHostReturnsTokens() throws {
        let directory = TemporaryDirectory()
        // Two sleeps start (the second on a token); the crash comes when the third task is sent.
        let (status, stderr, _) = try runMake(jobs: 3, tasks: ["sleep:300", "sleep:300", "!1 master-segv"], oneRecipe: true,
                                              in: directory)
        #expect(status == 2)
        #expect(stderr.contains("plugin-host: plugin 'chaos' crashed in request_of_task (SIGSEGV)"), "make: \(stderr)")
        #expect(!stderr.contains("jobserver tokens"), "make lost tokens: \(stderr)")
    }
}
