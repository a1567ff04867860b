// Workers that cannot be started (S18): a missing executable, one that exits before its handshake,
// one that writes something that is not a handshake. The run must end with every task failed, a
// setup error and exit status 2 — never hang, never crash.
// (These test how a spawned worker starts, so they use the exec path, not the default fork
// server: ForkServerTests covers how a fork server starts.)
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Spawn failure")
struct SpawnFailureTests {
    static func expectSpawnFailure(_ report: RunReport, _ log: EventLog, tasks: Int, mentioning needle: String) throws {
        #expect(report.counts.failed == tasks)
        #expect(report.counts.total == tasks)
        #expect(report.results.allSatisfy { $0.message?.hasPrefix("worker could not be started") == true })
        #expect(report.results.allSatisfy { $0.attempts == 0 })
        #expect(!report.setupErrors.isEmpty)
        #expect(report.setupErrors.allSatisfy { $0.hasPrefix("chaos: worker could not be started") })
        #expect(report.setupErrors.contains { $0.contains(needle) }, "setup errors: \(report.setupErrors)")
        #expect(report.exitStatus == 2)
        #expect(report.workersStarted == 0)
        #expect(log.kinds.contains { if case .spawnFailed(kind: "chaos", _) = $0 { true } else { false } })
        #expect(log.starts.isEmpty)
        let chaosReport = try #require(report.pluginReports.first?.text)
        #expect(chaosReport.contains("spawn-failed \(tasks)"), "report: \(chaosReport)")
    }

    @Test("a worker executable gone by the first spawn: every task fails, setup error, exit status 2")
    func missingExecutable() async throws {
        let worker = VanishingWorker()
        let test = try TestRun(chaos: ["echo:a", "echo:b", "segv"],
                               .test(jobs: 2, workerExecutable: worker.path, forkServer: false))
        worker.remove()
        let report = try await test.startAndFinish(timeout: 30)
        try Self.expectSpawnFailure(report, test.log, tasks: 3, mentioning: "\(worker.path): No such file or directory")
    }

    @Test("a worker that exits before its handshake (/bin/false) is a spawn failure")
    func exitsBeforeHandshake() async throws {
        let test = try TestRun(chaos: ["echo:a", "echo:b"], .test(jobs: 2, workerExecutable: "/bin/false", forkServer: false))
        let report = try await test.startAndFinish(timeout: 30)
        try Self.expectSpawnFailure(report, test.log, tasks: 2, mentioning: "exited before its handshake")
    }

    @Test("a worker that writes something else than a handshake is a spawn failure")
    func garbageInsteadOfHandshake() async throws {
        let directory = TemporaryDirectory()
        let script = directory.write("chatty-worker", "#!/bin/sh\necho 'this is not a frame, definitely not a hello'\nexec sleep 1000\n")
        let test = try TestRun(chaos: ["echo:a"], .test(jobs: 1, workerExecutable: script, forkServer: false))
        let report = try await test.startAndFinish(timeout: 30)
        try Self.expectSpawnFailure(report, test.log, tasks: 1, mentioning: "bad handshake")
    }

    @Test("a worker that loads another plugin than the host's is refused at the handshake")
    func pluginMismatch() async throws {
        // The worker is told to load whatever the script picks, not the host's chaos plugin.
        let echo = TestPaths.binDirectory + "/libEchoSwiftPlugin.so"
        try #require(access(echo, R_OK) == 0)
        let directory = TemporaryDirectory()
        let script = directory.write("wrong-plugin-worker", """
            #!/bin/sh
            # argv: --plugin PATH --name NAME --parent-pid PID
            exec "\(TestPaths.pluginWorker)" --plugin "\(echo)" --name "$4" --parent-pid "$6"

            """)
        let test = try TestRun(chaos: ["echo:a"], .test(jobs: 1, workerExecutable: script, forkServer: false))
        let report = try await test.startAndFinish(timeout: 30)
        try Self.expectSpawnFailure(report, test.log, tasks: 1, mentioning: "host expects 'chaos'")
    }

    @Test("a worker that never answers its handshake is a spawn failure after the handshake deadline")
    func silentWorkerDoesNotHang() async throws {
        // (Regression: there was no handshake deadline, so the run waited forever.)
        let directory = TemporaryDirectory()
        let script = directory.write("silent-worker", "#!/bin/sh\nexec sleep 1000\n")
        var configuration = HostConfiguration.test(jobs: 2, workerExecutable: script, forkServer: false)
        configuration.handshakeTimeout = 0.3
        let test = try TestRun(chaos: ["echo:a", "echo:b"], configuration)
        let report = try await test.startAndFinish(timeout: 60)
        try Self.expectSpawnFailure(report, test.log, tasks: 2, mentioning: "sent no handshake within 0.3 s")
        // The silent processes were killed and reaped.
        #expect(ProcessProbe.children(of: getpid(), containing: script).isEmpty)
    }

    /// A worker executable whose n-th start (from 1) is real when `good(n)`, else exits 1 at once.
    static func flakyWorker(in directory: TemporaryDirectory, goodStarts: [Int]) -> String {
        let counter = directory.file("starts")
        let cases = goodStarts.map(String.init).joined(separator: "|")
        return directory.write("flaky-worker", """
            #!/bin/sh
            n=$(( $(cat "\(counter)" 2>/dev/null || echo 0) + 1 ))
            echo $n > "\(counter)"
            case $n in \(cases)) exec "\(TestPaths.pluginWorker)" "$@" ;; esac
            exit 1

            """)
    }

    @Test("after a kind has started once, one failed spawn is tolerated and the tasks still run")
    func transientSpawnFailure() async throws {
        let directory = TemporaryDirectory()
        let test = try TestRun(chaos: ["echo:1", "echo:2", "echo:3"], policy: .oneShot,
                               .test(jobs: 1, workerExecutable: Self.flakyWorker(in: directory, goodStarts: [1, 3, 4]), forkServer: false))
        let report = try await test.startAndFinish(timeout: 30)
        #expect(report.counts.done == 3)
        #expect(report.setupErrors.isEmpty)
        #expect(report.exitStatus == 0)
        #expect(test.log.kinds.filter { if case .spawnFailed = $0 { true } else { false } }.count == 1)
    }

    @Test("after a kind has started once, three failed spawns in a row fail its remaining tasks")
    func persistentSpawnFailureAfterStart() async throws {
        let directory = TemporaryDirectory()
        let test = try TestRun(chaos: ["echo:1", "echo:2", "echo:3"], policy: .oneShot,
                               .test(jobs: 1, workerExecutable: Self.flakyWorker(in: directory, goodStarts: [1]), forkServer: false))
        let report = try await test.startAndFinish(timeout: 30)
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(2).outcome == .failed)
        #expect(try report.result(3).outcome == .failed)
        #expect(try report.result(2).message?.hasPrefix("worker could not be started") == true)
        #expect(test.log.kinds.filter { if case .spawnFailed = $0 { true } else { false } }.count == 3)
        #expect(!report.setupErrors.isEmpty)
        #expect(report.exitStatus == 2)
        // The retries back off (50 ms, then 100 ms) instead of following each other at once.
        let failures = test.log.events.filter { if case .spawnFailed = $0.kind { true } else { false } }.map(\.time)
        if failures.count == 3 {
            #expect(failures[1] - failures[0] >= 0.05, "\(failures)")
            #expect(failures[2] - failures[1] >= 0.1, "\(failures)")
        }
    }
}
