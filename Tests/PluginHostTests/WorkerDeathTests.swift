// A worker that dies (signal, exit, killed from outside) loses its task: the task is retried on a
// fresh worker up to `retries` times, then fails with a message that says how the worker ended (S9).
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker death")
struct WorkerDeathTests {
    @Test("a worker death is retried once, then the task fails naming the cause",
          arguments: [("segv", "was killed by signal 11 (SIGSEGV)"), ("abort", "was killed by signal 6 (SIGABRT)"),
                      ("exit:3", "exited with status 3")])
    func deathIsRetriedThenFails(spec: String, cause: String) async throws {
        let test = try TestRun(chaos: [spec, "echo:after"], .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.attempts == 2)
        #expect(result.message?.contains("worker died 2 time(s)") == true)
        #expect(result.message?.contains(cause) == true, "message: \(result.message ?? "nil")")
        #expect(test.log.retries.map(\.task) == [1])
        #expect(test.log.retries.first?.reason.contains(cause) == true)
        let workers = test.log.workers(of: 1)
        #expect(workers.count == 2 && workers[0] != workers[1], "the retry runs on a fresh worker")
        #expect(try report.result(2).outcome == .done, "the next task still runs")
        #expect(report.exitStatus == 1)
    }

    @Test("retries 0: a death fails the task at once")
    func noRetries() async throws {
        let test = try TestRun(chaos: ["segv"], .test(jobs: 1, retries: 0))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.attempts == 1)
        #expect(result.message?.contains("worker died 1 time(s)") == true)
        #expect(test.log.retries.isEmpty)
    }

    @Test("retries 3: four deaths before the task fails")
    func threeRetries() async throws {
        let test = try TestRun(chaos: ["exit:7"], .test(jobs: 2, retries: 3))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.attempts == 4)
        #expect(test.log.retries.count == 3)
        #expect(Set(test.log.workers(of: 1)).count == 4)
    }

    @Test("a noisy death's failure message carries the worker's last stderr lines")
    func noisyDeathKeepsLastWords() async throws {
        let test = try TestRun(chaos: ["noisy-death"], .test(jobs: 1, retries: 0))
        let report = try await test.startAndFinish()
        let message = try #require(try report.result(1).message)
        for line in 1...3 {
            #expect(message.contains("chaos: last words \(line)"), "message: \(message)")
        }
        #expect(message.contains("SIGABRT"))
        // The same lines were forwarded to the stderr handler, prefixed with the worker's name.
        await test.log.waitForEntry("the last words on stderr") { entry in
            if case .stderr(let line) = entry { return line == "[chaos:0:0] chaos: last words 3" }
            return false
        }
    }

    @Test("crash-once: the first attempt dies, the retry survives and the task is done")
    func crashOnceSucceedsOnRetry() async throws {
        let directory = TemporaryDirectory()
        let marker = directory.file("crash-once-marker")
        let test = try TestRun(chaos: ["crash-once:\(marker)", "echo:b"], .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.attempts == 2)
        #expect(result.response?.result == "survived")
        #expect(test.log.retries.count == 1)
        #expect(test.log.starts.map(\.task) == [1, 1, 2], "a retried task keeps its turn ahead of later tasks")
    }

    @Test("death-local: after the last death the plugin resolves the task in the master")
    func deathLocalResolvedByPlugin() async throws {
        let test = try TestRun(chaos: ["death-local"], .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.message == "ran in master after loss")
        #expect(result.attempts == 2)
        #expect(report.exitStatus == 0)
    }

    @Test("kill -9 from outside: retried, and failed once the retries are used up")
    func externalKillRetriedThenFails() async throws {
        let test = try TestRun(chaos: ["sleep:100000"], .test(jobs: 1, retries: 1))
        test.start()
        for attempt in 1...2 {
            let started = try #require(await test.log.waitForStart(of: 1, attempt: attempt))
            #expect(test.log.signal(worker: started.worker))
        }
        let report = try await test.finish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.attempts == 2)
        #expect(result.message?.contains("SIGKILL") == true, "message: \(result.message ?? "nil")")
        #expect(test.log.retries.count == 1)
    }

    @Test("kill -9 from outside with retries 0 fails the task at once")
    func externalKillNoRetries() async throws {
        let test = try TestRun(chaos: ["sleep:100000", "echo:next"], .test(jobs: 1, retries: 0))
        test.start()
        let started = try #require(await test.log.waitForStart(of: 1))
        let pid = try #require(test.log.pid(of: started.worker))
        #expect(test.log.signal(worker: started.worker))
        let report = try await test.finish()
        let result = try report.result(1)
        #expect(result.outcome == .failed)
        #expect(result.attempts == 1)
        #expect(result.message?.contains("(pid \(pid)) was killed by signal 9 (SIGKILL)") == true)
        #expect(try report.result(2).outcome == .done)
    }

    @Test("kill -9 from outside during the first attempt: the retry completes the task")
    func externalKillThenDone() async throws {
        // The first attempt is killed as soon as it starts (from a dedicated thread), long before
        // its 4 s sleep ends.
        let test = try TestRun(chaos: ["sleep:4000"], .test(jobs: 1, retries: 1))
        let (report, killed) = try await test.startAndFinish(killingWorkerOf: 1, attempt: 1)
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.attempts == 2)
        #expect(result.response?.result == "slept 4000")
        #expect(result.response?.pid != killed.pid)
        #expect(test.log.retries.first?.reason.contains("SIGKILL") == true)
    }

    @Test("a persistent worker that dies while idle loses no task; later work gets a fresh worker (S9)")
    func idleDeathLosesNothing() async throws {
        // jobs 2: task 1 sleeps on one worker; task 2 (echo) runs on the other, which then idles.
        let test = try TestRun(chaos: ["sleep:4000", "echo:a"], policy: .persistent, .test(jobs: 2, retries: 1))
        let log = test.log
        struct Outcome: Sendable { var idle: KilledWorker?; var idleReason: String?; var busy: KilledWorker? }
        let reaction = Reaction { () -> Outcome in
            var outcome = Outcome()
            // Task 2 done and task 1 running: the worker of task 2 is idle.
            guard log.blockingWaitForEvent({ if case .taskEnded(2, _, _, _) = $0 { true } else { false } }) != nil,
                  let busyWorker = log.blockingWaitForStart(of: 1, attempt: 1),
                  let idleWorker = log.workers(of: 2).first, idleWorker != busyWorker,
                  let idlePid = log.pid(of: idleWorker), let busyPid = log.pid(of: busyWorker),
                  log.signal(worker: idleWorker) else { return outcome }
            outcome.idle = KilledWorker(name: idleWorker, pid: idlePid)
            // Wait until the host noticed the idle death, then kill the busy one: its task is the new work.
            if case .workerEnded(_, let reason)? = log.blockingWaitForEvent({ if case .workerEnded(idleWorker, _) = $0 { true } else { false } }) {
                outcome.idleReason = reason
            }
            if log.signal(worker: busyWorker) { outcome.busy = KilledWorker(name: busyWorker, pid: busyPid) }
            return outcome
        }
        test.start()
        let outcome = await reaction.value
        guard let idle = outcome.idle, let busy = outcome.busy else {
            Issue.record("the echo task's worker must be idle while the sleep runs elsewhere, and both kills must land")
            test.run.cancelAll()
            _ = try await test.finish()
            return
        }
        #expect(outcome.idleReason?.contains("SIGKILL") == true, "reason: \(outcome.idleReason ?? "nil")")
        let report = try await test.finish()
        #expect(try report.result(2).outcome == .done)
        let first = try report.result(1)
        #expect(first.outcome == .done)
        #expect(first.attempts == 2)
        #expect(first.response?.result == "slept 4000")
        let retryWorker = try #require(test.log.workers(of: 1).last)
        #expect(retryWorker != idle.name && retryWorker != busy.name)
        #expect(report.workersStarted == 3)
        // The idle death was reported to the plugin (on_task_lost with no task) and counted.
        let chaosReport = try #require(report.pluginReports.first?.text)
        #expect(chaosReport.contains("worker-died 2"), "report: \(chaosReport)")
    }
}
