// Processes a plugin starts do not outlive their worker, even one that left the worker's process
// group and session (setsid, then a second fork, as a daemon does): each worker runs in a cgroup
// of its own, killed and removed when the worker ends (issue 12, defect 9: one orphan per task).
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Escaped plugin processes", .enabled(if: HostConfiguration.workerCgroupsAvailable,
                                            "needs a writable cgroup v2 (root on these machines)"))
struct EscapedProcessTests {
    /// The pid the `escape:PATH` grandchild wrote.
    private static func escapee(_ path: String) throws -> Int32 {
        let text = String(decoding: try #require(ProcessProbe.readFile(path)), as: UTF8.self)
        return try #require(Int32(text.split(separator: "\n").first ?? ""), "pid file: '\(text)'")
    }

    /// A handle on `pid` while it is a live (not zombie) escapee: forked from a worker (its
    /// command line is the worker's: `plugin-worker --plugin ...`) and leader of a session of its
    /// own (which no worker is). Checked after the handle is opened, so the handle is that process.
    private static func liveEscapee(_ pid: Int32) -> ProcessHandle? {
        guard let handle = ProcessHandle(pid: pid), let fields = ProcessProbe.statFields(of: pid), fields.count > 3,
              fields[0] != "Z", Int32(fields[3]) == pid,
              ProcessProbe.commandLine(of: pid)?.contains("--plugin") == true else { return nil }
        return handle
    }

    /// Kills the escapee if it still lives (for a test that ended early): no test leaves it behind.
    private static func cleanUp(_ path: String) {
        let text = String(decoding: ProcessProbe.readFile(path) ?? [], as: UTF8.self)
        if let pid = Int32(text.split(separator: "\n").first ?? "") { liveEscapee(pid)?.send(signal: SIGKILL) }
    }

    /// Expects the escapee dead; kills it if not, so that no test leaves it behind.
    private static func expectGone(_ pid: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        let escapee = liveEscapee(pid)
        #expect(escapee == nil, "process \(pid), started by the plugin in a new session, outlived the run",
                sourceLocation: sourceLocation)
        escapee?.send(signal: SIGKILL)
    }

    /// Runs `body` with the file the escape task writes its pid to, then expects that process
    /// gone (and kills it if not, or if `body` throws).
    private static func checkingEscapee(sourceLocation: SourceLocation = #_sourceLocation,
                                        _ body: (String) async throws -> Void) async throws {
        let directory = TemporaryDirectory()
        let pidFile = directory.file("escapee")
        defer { cleanUp(pidFile) }
        try await body(pidFile)
        expectGone(try escapee(pidFile), sourceLocation: sourceLocation)
    }

    @Test("plugin-host run: a setsid, double-forked child of a one-shot worker is gone when the run ends")
    func escapeFromOneShotWorker() async throws {
        try await Self.checkingEscapee { pidFile in
            let result = try await HostProcess.run(["run", "-j", "1", "chaos", "escape:\(pidFile)"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
        }
    }

    @Test("SIGINT to plugin-host: the escaped child of its persistent worker goes with the run")
    func escapeThenInterrupt() async throws {
        try await Self.checkingEscapee { pidFile in
            let host = try HostProcess(["run", "-j", "1", "--policy", "persistent", "chaos", "escape:\(pidFile)", "hang"])
            var written = false
            for _ in 0..<3_000 where !written {
                written = ProcessProbe.readFile(pidFile).map { $0.last == UInt8(ascii: "\n") } ?? false
                if !written { try await Task.sleep(for: .milliseconds(10)) }
            }
            try #require(written, "the escape task never wrote its pid")
            kill(host.pid, SIGINT)
            let result = await host.result()
            #expect(result.status == 130, "stderr: \(result.stderr)")
        }
    }

    @Test("a persistent worker that crashes after a setsid child escaped takes the child with it")
    func escapeFromCrashingPersistentWorker() async throws {
        try await Self.checkingEscapee { pidFile in
            // (Not through an agent: worker cgroups are this machine's; an agent's workers are
            // contained by their process group alone.)
            let test = try TestRun(chaos: ["escape:\(pidFile)", "segv"], policy: .persistent,
                                   .test(jobs: 1, retries: 0, agent: false))
            let report = try await test.startAndFinish()
            #expect(try report.result(1).outcome == .done)
            #expect(try report.result(2).outcome == .failed)
        }
    }
}
