import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The embedding API: tasks pushed from outside the plugin, with the run's input held open.
@Suite struct LibraryAPITests {
    @Test func pushedTasksRunWhileInputIsHeld() async throws {
        let test = try TestRun(chaos: [], policy: .persistent, .test(jobs: 1))
        #expect(test.run.holdInput())
        test.start()
        var ids: [UInt64] = []
        for index in 0..<3 {
            let id = try #require(test.run.push(Array("#\(100 + index) echo:outside-\(index)".utf8), toKind: "chaos"))
            ids.append(id)
        }
        #expect(test.run.push(Array("#9 echo:x".utf8), toKind: "no-such-kind") == nil)
        for id in ids { _ = await test.log.waitForEnd(of: id) }
        test.run.releaseInput()
        let report = try await test.finish()
        #expect(report.counts.done == 3)
        let messages = report.results.compactMap(\.message)
        for index in 0..<3 {
            #expect(messages.contains { $0.hasSuffix("outside-\(index)") }, "results: \(messages)")
        }
        #expect(test.run.push(Array("#9 echo:late".utf8), toKind: "chaos") == nil, "a finished run takes no tasks")
        #expect(!test.run.holdInput())
    }

    @Test func aRunWithoutHoldsEndsWhenItsQueuesDrain() async throws {
        let test = try TestRun(chaos: ["echo:a"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 1)
    }
}

/// Guards found by review: configuration values that could overflow, kinds added too late,
/// workers reachable by the terminal's Ctrl-C.
@Suite struct RobustnessTests {
    @Test func anAbsurdTimeoutIsClampedNotATrap() async throws {
        let test = try TestRun(chaos: ["echo:a", "@4294967295 echo:b"], .test(jobs: 1, timeout: 1e11))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
    }

    @Test func addingAKindAfterStartIsAUsageError() async throws {
        let test = try TestRun(chaos: ["echo:a"], .test(jobs: 1))
        test.start()
        #expect(throws: HostError.self) { try test.addChaos(["echo:late"]) }
        let report = try await test.finish()
        #expect(report.counts.total == 1)
    }

    /// Each worker leads its own process group, so a terminal's SIGINT (sent to the foreground
    /// group) reaches only the master, which cancels cleanly; and the master can kill a worker
    /// together with anything it forked.
    @Test func workersLeadTheirOwnProcessGroup() async throws {
        let test = try TestRun(chaos: ["hang"], .test(jobs: 1))  // (alive until cancelled)
        let log = test.log
        // Read on a thread of its own while the task runs: a whole suite can keep the Swift
        // concurrency pool busy for long (a 20 s sleep had ended).
        let reading = Reaction { () -> (pid: Int32, group: Int32?)? in
            guard let worker = log.blockingWaitForStart(of: 1, attempt: 1), let pid = log.pid(of: worker) else { return nil }
            return (pid, ProcessProbe.processGroup(of: pid))
        }
        test.start()
        let (pid, read) = try #require(await reading.value, "no worker started")
        let group = try #require(read)
        #expect(group == pid, "pgrp of the worker: \(group)")
        #expect(getpgrp() != pid)
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 1)
    }
}


/// Rule 10: when no worker can be started, the plugin may run a task in the master instead.
@Suite struct SpawnFallbackTests {
    @Test func onTaskLostMayResolveTasksWhenWorkersCannotStart() async throws {
        let worker = VanishingWorker()
        let test = try TestRun(chaos: ["death-local", "echo:a"], .test(jobs: 1, workerExecutable: worker.path))
        worker.remove()
        let report = try await test.startAndFinish()
        let fallback = try #require(report.results.first { $0.id == 1 })
        #expect(fallback.outcome == .done)
        #expect(fallback.message == "ran in master after loss")
        let plain = try #require(report.results.first { $0.id == 2 })
        #expect(plain.outcome == .failed)
        #expect(plain.message?.contains("\(worker.path): No such file or directory") == true, "\(plain.message ?? "")")
        #expect(report.exitStatus == 2)
    }

    @Test func aRunWhoseEveryUnstartableTaskRanInTheMasterSucceeds() async throws {
        let worker = VanishingWorker()
        let test = try TestRun(chaos: ["death-local", "death-local"], .test(jobs: 1, workerExecutable: worker.path))
        worker.remove()
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        #expect(report.setupErrors.isEmpty, "setup errors: \(report.setupErrors)")
        #expect(report.exitStatus == 0)
    }
}

/// The progress extension (`PH_EXT_PROGRESS`): a kind counts its own units of work on the host's progress.
@Suite struct ProgressExtensionTests {
    @Test func aKindCountsItsOwnUnits() async throws {
        let library = try PluginLibrary(path: TestPaths.binDirectory + "/libEchoSwiftPlugin.so")
        let run = PluginRun(configuration: .test(jobs: 2))
        try run.addKind(library, arguments: ["--count", "50"])
        #expect(run.progress.units.map(\.progress) == [UnitProgress(unit: "echoes", done: 0, total: 50)],
                "the total is declared when the kind opens")
        run.start()
        let report = try #require(await awaitReport(run, timeout: 60))
        #expect(report.counts.done == 50)
        #expect(run.progress.units.map(\.kind) == ["echo-swift"])
        #expect(run.progress.units.map(\.progress) == [UnitProgress(unit: "echoes", done: 50, total: 50)])
    }
}
