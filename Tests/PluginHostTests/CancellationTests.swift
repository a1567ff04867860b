// Cancellation: a queued task ends at once and never starts (S5); a running task's worker is
// killed and replaced (S6); cancelAll empties everything and leaves no process (S14, S19);
// cancelling a worker by name loses its task with it, and the task is retried (S8).
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Cancellation")
struct CancellationTests {
    @Test("a queued task is cancelled at once and never started (S5)")
    func cancelQueuedTask() async throws {
        let test = try TestRun(chaos: ["hang", "echo:b", "echo:c"], .test(jobs: 1))
        test.start()
        try #require(await test.log.waitForStart(of: 1) != nil)
        #expect(test.run.cancel(task: 2))
        // Ended synchronously, inside cancel(task:).
        #expect(test.log.kinds.contains { if case .taskEnded(2, _, .cancelled, _) = $0 { true } else { false } })
        #expect(!test.run.cancel(task: 2), "a task ends once; cancelling it again reports false")
        #expect(!test.run.cancel(task: 999), "unknown task")
        #expect(test.run.cancel(task: 1))
        let report = try await test.finish()
        #expect(try report.result(2).outcome == .cancelled)
        #expect(try report.result(2).attempts == 0)
        #expect(test.log.workers(of: 2).isEmpty, "never started")
        #expect(try report.result(3).outcome == .done)
        #expect(report.counts.cancelled == 2)
        #expect(report.exitStatus == 1)
        #expect(!report.interrupted)
    }

    @Test("a running task is cancelled; its worker is replaced and the next task runs (S6)",
          arguments: ["hang", "sleep:100000"])
    func cancelRunningTask(spec: String) async throws {
        // `hang` ignores SIGTERM (killed after the grace period); `sleep` stops and answers "stopped",
        // which must not turn the cancelled task into a done one.
        let test = try TestRun(chaos: [spec, "echo:b"], policy: .persistent, .test(jobs: 1, killGracePeriod: 0.2))
        test.start()
        let started = try #require(await test.log.waitForStart(of: 1))
        #expect(test.run.cancel(task: 1))
        #expect(test.log.kinds.contains { if case .taskEnded(1, _, .cancelled, _) = $0 { true } else { false } })
        let reason = try #require(await test.log.waitForWorkerEnd(started.worker))
        #expect(reason == "killed: its task was cancelled")
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled)
        let next = try report.result(2)
        #expect(next.outcome == .done)
        let nextWorker = try #require(test.log.workers(of: 2).first)
        #expect(nextWorker != started.worker, "the cancelled task's worker was replaced")
        #expect(next.response?.status == "F", "the replacement is a fresh worker")
        #expect(!test.run.cancel(task: 1), "already ended")
    }

    @Test("cancelAll with 3 queued and 2 running: all cancelled, run ends, no process left (S14, S19)")
    func cancelAllStopsEverything() async throws {
        let test = try TestRun(chaos: ["hang", "sleep:100000", "echo:c", "echo:d", "echo:e"], policy: .persistent,
                               .test(jobs: 2, killGracePeriod: 0.2))
        test.start()
        let first = try #require(await test.log.waitForStart(of: 1))
        let second = try #require(await test.log.waitForStart(of: 2))
        let pids = try [first.worker, second.worker].map { try #require(test.log.pid(of: $0)) }
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 5)
        #expect(report.counts.total == 5)
        #expect(report.interrupted)
        #expect(report.exitStatus == 1)
        #expect(test.log.startOrder == [1, 2], "queued tasks never started")
        #expect(report.workersStarted == 2, "no worker is spawned after cancelAll")
        // Gone and reaped (a zombie child of ours would count as alive; a reused pid would not).
        for (pid, name) in zip(pids, [first.worker, second.worker]) {
            #expect(!ProcessProbe.isAlive(pid: pid, name: name), "worker \(name) pid \(pid) left behind")
        }
        #expect(test.run.workerNames.isEmpty)
    }

    @Test("cancelAll before any worker exists cancels every task")
    func cancelAllEarly() async throws {
        let test = try TestRun(chaos: ["echo:a", "echo:b"], .test(jobs: 1))
        test.run.cancelAll()
        test.start()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 2)
        #expect(report.interrupted)
        #expect(report.workersStarted == 0)
    }

    @Test("cancelWorker(named:) while busy: the task is lost with the worker and retried (S8)")
    func cancelWorkerRetriesTask() async throws {
        let test = try TestRun(chaos: ["hang"], .test(jobs: 1, retries: 1, killGracePeriod: 0.2))
        test.start()
        let first = try #require(await test.log.waitForStart(of: 1, attempt: 1))
        #expect(test.run.workerNames == [first.worker])
        #expect(test.run.cancelWorker(named: first.worker))
        #expect(!test.run.cancelWorker(named: first.worker), "already being cancelled")
        let second = try #require(await test.log.waitForStart(of: 1, attempt: 2))
        #expect(second.worker != first.worker)
        #expect(test.log.retries.first?.reason == "worker \(first.worker) was cancelled")
        #expect(test.run.cancelWorker(named: second.worker))
        let report = try await test.finish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.attempts == 2)
        #expect(result.message?.contains("worker \(second.worker) was cancelled") == true, "message: \(result.message ?? "nil")")
        #expect(!test.run.cancelWorker(named: "chaos:9:99"))
    }

    @Test("cancelWorker(named:) on a sleeping task: the retry on a fresh worker completes it")
    func cancelWorkerThenDone() async throws {
        let test = try TestRun(chaos: ["sleep:4000"], .test(jobs: 1, retries: 1, killGracePeriod: 0.2))
        let (log, run) = (test.log, test.run)
        // Cancel the worker from a dedicated thread as soon as the task starts.
        let reaction = Reaction { () -> String? in
            guard let worker = log.blockingWaitForStart(of: 1, attempt: 1), run.cancelWorker(named: worker) else { return nil }
            return worker
        }
        test.start()
        let cancelled = try #require(await reaction.value)
        let report = try await test.finish()
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.attempts == 2)
        #expect(result.response?.result == "slept 4000", "the first attempt's \"stopped\" answer is ignored")
        #expect(test.log.workersEnded.first { $0.name == cancelled }?.reason == "killed: worker cancelled")
    }

    /// A worker executable that waits until `go` exists before it becomes the real worker, so
    /// the test decides how long the worker stays in its handshake.
    static func gatedWorker(in directory: TemporaryDirectory) -> (executable: String, go: String) {
        let go = directory.file("go")
        let script = directory.write("gated-worker", """
            #!/bin/sh
            while [ ! -e "\(go)" ]; do sleep 0.01; done
            exec "\(TestPaths.pluginWorker)" "$@"

            """)
        return (script, go)
    }

    /// One job on the gated worker. The handshake may wait as long as the test needs: with the
    /// whole suite starting at once, the cooperative threads that run this test's steps can all
    /// be busy for longer than the default 10 s, and the host must not give up on the worker
    /// (and kill it) before the test has found it.
    static func gatedConfiguration(_ executable: String) -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: 1, killGracePeriod: 0.2, workerExecutable: executable, forkServer: false)
        configuration.handshakeTimeout = 600
        return configuration
    }

    /// Waits until the gated worker's process exists (spawned, so the host holds its process).
    /// Polls on a thread of its own, so a busy cooperative pool cannot delay it.
    static func waitForSpawn(of executable: String, log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int32 {
        let found = await Reaction { () -> Int32? in
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if let pid = ProcessProbe.children(of: getpid(), containing: executable).first { return pid }
                usleep(2_000)
            }
            return nil
        }.value
        guard let found else {
            Issue.record("no process of \(executable) appeared within 60 s; events: \(log.kinds)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return found
    }

    @Test("cancelWorker(named:) on a worker still starting replaces it; it is not a spawn failure")
    func cancelStartingWorker() async throws {
        let directory = TemporaryDirectory()
        let gated = Self.gatedWorker(in: directory)
        let test = try TestRun(chaos: ["echo:a", "echo:b"], Self.gatedConfiguration(gated.executable))
        test.start()
        _ = try await Self.waitForSpawn(of: gated.executable, log: test.log)
        let name = try #require(test.run.workerNames.first)
        #expect(test.log.workersStarted.isEmpty, "the worker has not answered its handshake yet")
        #expect(test.run.cancelWorker(named: name))
        directory.write("go", "")
        let report = try await test.finish()
        // (Regression: a worker the host itself killed during its handshake counted as a spawn
        // failure, which failed every task of the kind with exit status 2.)
        #expect(report.setupErrors.isEmpty, "setup errors: \(report.setupErrors)")
        #expect(report.counts.done == 2)
        #expect(report.exitStatus == 0)
        #expect(!test.log.workersStarted.contains { $0.name == name }, "the cancelled worker never served")
    }

    @Test("cancelAll while the first worker is in its handshake: tasks cancelled, exit status 1, no setup error")
    func cancelAllDuringHandshake() async throws {
        let directory = TemporaryDirectory()
        let gated = Self.gatedWorker(in: directory)
        let test = try TestRun(chaos: ["echo:a", "echo:b"], Self.gatedConfiguration(gated.executable))
        test.start()
        _ = try await Self.waitForSpawn(of: gated.executable, log: test.log)
        test.run.cancelAll()
        directory.write("go", "")
        let report = try await test.finish()
        #expect(report.counts.cancelled == 2)
        #expect(report.interrupted)
        #expect(report.workersStarted == 0)
        // (Regression: the worker cancelAll killed during its handshake was reported as a setup error, exit 2.)
        #expect(report.setupErrors.isEmpty, "setup errors: \(report.setupErrors)")
        #expect(report.exitStatus == 1)
    }

    @Test("cancelAll between a worker's creation and its spawn must not hang the run")
    func cancelAllBeforeSpawnDoesNotHang() async throws {
        // The slot publishes the worker (workerNames) before posix_spawn returns: a cancelAll in
        // that window sends SIGKILL to no process, and nothing kills the worker afterwards.
        let directory = TemporaryDirectory()
        let gated = Self.gatedWorker(in: directory)
        let test = try TestRun(chaos: ["echo:a"], Self.gatedConfiguration(gated.executable))
        let run = test.run
        // Spin on a dedicated thread so the cancel lands as soon as the worker is published.
        let reaction = Reaction { () -> Bool in
            while run.workerNames.isEmpty { sched_yield() }
            run.cancelAll()
            return true
        }
        test.start()
        _ = await reaction.value
        directory.write("go", "")
        // (Regression: the SIGKILL went to no process and nothing killed the worker afterwards: the
        // run hung. A correct engine ends this run in milliseconds; 30 s only bounds a hang.)
        var report = await awaitReport(test.run, timeout: 30)
        #expect(report != nil, "the run hung after cancelAll")
        if report == nil {
            // Unblock the hung run: kill the worker that answered its handshake after the cancel.
            for worker in test.log.workersStarted { test.log.signal(worker: worker.name) }
            report = await awaitReport(test.run, timeout: 30)
        }
        let final = try #require(report)
        #expect(final.counts.cancelled == 1)
        expectInvariants(final, test.log)
    }
}
