// Graceful drain and halt through a real `plugin-host run`: real signals (SIGTERM, a second
// SIGTERM, --drain-signal USR1), the drain's timeout killing a hung task, --halt, exit
// statuses, and no worker left behind.
import Foundation
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Drain and halt on the command line")
struct DrainCLITests {
    /// The run's `plugin-worker` processes with their names, to check they are gone afterwards.
    private func workers(of host: HostProcess) -> [(pid: Int32, name: String)] {
        ProcessProbe.children(of: host.pid, containing: "plugin-worker").map { pid in
            let line = ProcessProbe.commandLine(of: pid) ?? []
            return (pid, line.firstIndex(of: "--name").map { line[$0 + 1] } ?? "?")
        }
    }

    /// Expects every worker of `running` to be gone.
    private func expectGone(_ running: [(pid: Int32, name: String)], sourceLocation: SourceLocation = #_sourceLocation) {
        for (pid, name) in running {
            #expect(!ProcessProbe.isAlive(pid: pid, name: name), "worker \(name) left behind", sourceLocation: sourceLocation)
        }
    }

    /// A `plugin-host run -j 1 chaos hang echo:b` with `--drain-timeout seconds`, once its hang
    /// task runs, with its worker; its events go to standard output.
    private func hungRun(drainTimeout: String) async throws -> (host: HostProcess, running: [(pid: Int32, name: String)]) {
        let host = try HostProcess(["run", "-j", "1", "--progress", "--drain-timeout", drainTimeout, "--events", "-",
                                    "chaos", "hang", "echo:b"])
        let busy = try await host.waitForStderr(containing: "1/1 workers busy")
        try #require(busy, "the hang task never showed as running")
        return (host, workers(of: host))
    }

    /// Every `task-ended` line of events in `text` (other lines are skipped), by task id; each
    /// task must end exactly once.
    private func endings(of text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt64: [String: Any]] {
        var ends: [UInt64: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["event"] as? String == "task-ended", let task = (object["task"] as? NSNumber)?.uint64Value
            else { continue }
            #expect(ends[task] == nil, "task \(task) ended twice", sourceLocation: sourceLocation)
            ends[task] = object
        }
        return ends
    }

    /// Opens `fifo`'s write end: returns once a `wait:FIFO` task's worker opened it to read.
    /// (The blocking open runs off the cooperative threads, which other tests need meanwhile.)
    private func openWriter(_ fifo: String) async throws -> Int32 {
        let writer: Int32 = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: open(fifo, O_WRONLY | O_CLOEXEC)) }
        }
        try #require(writer >= 0)
        return writer
    }

    /// `plugin-host run -j 1 OPTIONS --drain-timeout 3600 --events - chaos wait:FIFO TASKS...` once
    /// its first task runs, with its worker: the task ends when the test closes `writer` (the
    /// drain's time is one no machine runs out of). `gate` holds the FIFO: keep it alive.
    private func gatedRun(_ options: [String], then tasks: [String]) async throws
        -> (host: HostProcess, gate: TemporaryDirectory, writer: Int32, running: [(pid: Int32, name: String)]) {
        let gate = TemporaryDirectory()
        let fifo = gate.file("gate")
        try #require(mkfifo(fifo, 0o600) == 0)
        let host = try HostProcess(["run", "-j", "1"] + options + ["--drain-timeout", "3600", "--events", "-",
                                                                   "chaos", "wait:\(fifo)"] + tasks)
        let writer = try await openWriter(fifo)
        return (host, gate, writer, workers(of: host))
    }

    @Test("SIGTERM drains: the running task finishes, the queued ones end cancelled 'drained', summary, exit 143")
    func sigtermDrains() async throws {
        let (host, gate, writer, running) = try await gatedRun([], then: ["echo:b", "echo:c"])
        kill(host.pid, SIGTERM)
        let draining = try await host.waitForStderr(containing: "plugin-host: SIGTERM: draining:")
        close(writer)  // task 1 may now finish
        let result = await host.result()
        withExtendedLifetime(gate) {}
        #expect(draining, "stderr: \(result.stderr)")
        #expect(result.status == 143 && !result.signalled, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("1 running task gets up to 3600.0 s to finish"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("plugin-host: 3 tasks, 1 done, 2 cancelled in "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("(drained)"), "stderr: \(result.stderr)")
        let ends = endings(of: result.stdout)
        #expect(ends[1]?["outcome"] as? String == "done")
        for task: UInt64 in [2, 3] {
            #expect(ends[task]?["outcome"] as? String == "cancelled" && ends[task]?["message"] as? String == "drained")
        }
        #expect(ends.count == 3)
        #expect(running.count == 1)
        expectGone(running)
    }

    @Test("--drain-timeout: a hung task is cancelled when it runs out (its worker killed), exit 143")
    func timeoutKillsHungTask() async throws {
        let (host, running) = try await hungRun(drainTimeout: "0.2")
        kill(host.pid, SIGTERM)
        let result = await host.result()
        #expect(result.status == 143 && !result.signalled, "stderr: \(result.stderr)")
        let ends = endings(of: result.stdout)
        #expect(ends[1]?["outcome"] as? String == "cancelled")
        #expect(ends[1]?["message"] as? String == "drained: still running after the drain timeout of 0.2 s")
        #expect(ends[2]?["message"] as? String == "drained")
        expectGone(running)
    }

    @Test("a second SIGTERM during the drain stops at once: the running task is cancelled, exit 143")
    func secondSignalStops() async throws {
        let (host, running) = try await hungRun(drainTimeout: "3600")
        kill(host.pid, SIGTERM)
        let draining = try await host.waitForStderr(containing: "draining:")
        try #require(draining)
        kill(host.pid, SIGTERM)
        let result = await host.result()
        #expect(result.status == 143 && !result.signalled, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("plugin-host: SIGTERM: stopping at once"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("(interrupted)"), "stderr: \(result.stderr)")
        let ends = endings(of: result.stdout)
        #expect(ends[1]?["outcome"] as? String == "cancelled" && ends[1]?["message"] as? String == "cancelled")
        #expect(ends[2]?["message"] as? String == "drained")
        expectGone(running)
    }

    @Test("--drain-signal USR1 drains as SIGTERM does, exit 138; workers start with USR1 at its default")
    func customDrainSignal() async throws {
        let (host, gate, writer, running) = try await gatedRun(["--drain-signal", "USR1"], then: ["echo:b"])
        #expect(running.count == 1)
        for (pid, _) in running {
            // The master takes USR1 through a signal source (libdispatch installs a handler, which
            // exec resets to the default): a worker must not start with it ignored.
            let status = String(decoding: ProcessProbe.readFile("/proc/\(pid)/status") ?? [], as: UTF8.self)
            let ignored = status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
                .flatMap { UInt64($0.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16) }
            let mask = try #require(ignored, "status: \(status)")
            #expect(mask & (1 << UInt64(SIGUSR1 - 1)) == 0, "the worker ignores SIGUSR1: SigIgn \(String(mask, radix: 16))")
        }
        kill(host.pid, SIGUSR1)
        let draining = try await host.waitForStderr(containing: "plugin-host: SIGUSR1: draining:")
        close(writer)
        let result = await host.result()
        withExtendedLifetime(gate) {}
        #expect(draining, "stderr: \(result.stderr)")
        #expect(result.status == 128 + SIGUSR1 && !result.signalled, "stderr: \(result.stderr)")
        let ends = endings(of: result.stdout)
        #expect(ends[1]?["outcome"] as? String == "done")
        #expect(ends[2]?["outcome"] as? String == "cancelled" && ends[2]?["message"] as? String == "drained")
        expectGone(running)
    }

    @Test("--halt now,fail=1 stops at the first failure (exit 1); soon,success=1 exits 0")
    func halt() async throws {
        let failing = try await HostProcess.run(["run", "-j", "1", "--halt", "now,fail=1", "chaos", "echo:a", "taskfail", "echo:b"])
        #expect(failing.status == 1, "stderr: \(failing.stderr)")
        #expect(failing.stderr.contains("plugin-host: --halt now,fail=1: 1 of 3 tasks failed; stopping"), "stderr: \(failing.stderr)")
        #expect(failing.stderr.contains("plugin-host: 3 tasks, 1 done, 1 failed, 1 cancelled in "), "stderr: \(failing.stderr)")
        #expect(failing.stderr.contains("(halted)"), "stderr: \(failing.stderr)")
        let succeeding = try await HostProcess.run(["run", "-j", "1", "--halt", "soon,success=1", "chaos", "echo:a", "echo:b"])
        #expect(succeeding.status == 0, "stderr: \(succeeding.stderr)")
        #expect(succeeding.stderr.contains("1 done, 1 cancelled"), "stderr: \(succeeding.stderr)")
    }

    @Test("a bad --halt, --drain-signal or --drain-timeout is one line, exit 2", arguments: [
        (["--halt", "now,fail=0"], "--halt takes never"),
        (["--halt", "sometime,fail=1"], "not 'sometime,fail=1'"),
        (["--drain-signal", "KILL"], "--drain-signal takes one of HUP, INT, QUIT, USR1"),
        (["--drain-signal", "9"], "not '9'"),
        (["--drain-timeout=-1"], "--drain-timeout must be 0 or a positive number"),
        (["--drain-timeout", "nan"], "--drain-timeout must be 0 or a positive number"),
    ])
    func badOptions(_ options: [String], _ message: String) async throws {
        let result = try await HostProcess.run(["run"] + options + ["chaos", "echo"])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }
}

@Suite("The Slurm drain recipe, with signals")
struct SlurmDrainRecipeTests {
    @Test("Examples/slurm/drain-and-requeue.sbatch: USR1 to the batch shell drains plugin-host, exit 138, scontrol requeue")
    func batchScriptDrainsAndRequeues() async throws {
        let directory = TemporaryDirectory()
        let fifo = directory.file("gate")
        try #require(mkfifo(fifo, 0o600) == 0)
        // plugin-host and a fake scontrol that records its arguments, first on the PATH.
        let bin = directory.file("bin")
        try #require(mkdir(bin, 0o700) == 0)
        try #require(symlink(TestPaths.pluginHost, bin + "/plugin-host") == 0)
        let calls = directory.file("scontrol.calls")
        let scontrol = directory.write("bin/scontrol", "#!/bin/sh\necho \"$@\" >>'\(calls)'\n")
        try #require(chmod(scontrol, 0o700) == 0)
        let stderrPath = directory.write("stderr", "")
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/bash")
        script.arguments = [MetamathData.packageRoot + "/Examples/slurm/drain-and-requeue.sbatch",
                            "-j", "1", "chaos", "wait:\(fifo)", "echo:b"]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["SLURM_JOB_ID"] = "4242"
        script.environment = environment
        script.standardInput = FileHandle.nullDevice
        script.standardOutput = FileHandle.nullDevice
        script.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        let exited = DispatchSemaphore(value: 0)
        script.terminationHandler = { _ in exited.signal() }
        // slurmstepd starts the batch shell with no signal blocked; a child inherits the mask of
        // the thread that spawns it, and the test's threads (libdispatch's) block every signal,
        // so the spawn runs on a thread of its own with an empty mask.
        let started: Result<Void, any Error> = await withCheckedContinuation { continuation in
            Thread {
                var empty = sigset_t()
                sigemptyset(&empty)
                pthread_sigmask(SIG_SETMASK, &empty, nil)
                continuation.resume(returning: Result { try script.run() })
            }.start()
        }
        try started.get()
        let writer: Int32 = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: open(fifo, O_WRONLY | O_CLOEXEC)) }
        }
        try #require(writer >= 0)  // task 1 runs: plugin-host's signal sources are in place
        kill(script.processIdentifier, SIGUSR1)  // what --signal=B:USR1 does
        var draining = false
        for _ in 0..<3_000 where !draining {
            draining = String(decoding: ProcessProbe.readFile(stderrPath) ?? [], as: UTF8.self).contains("SIGUSR1: draining:")
            if !draining { try await Task.sleep(for: .milliseconds(10)) }
        }
        close(writer)
        let finished: Bool = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: exited.wait(timeout: .now() + 60) == .success) }
        }
        if !finished { script.terminate() }
        let stderr = String(decoding: ProcessProbe.readFile(stderrPath) ?? [], as: UTF8.self)
        #expect(draining && finished, "stderr: \(stderr)")
        #expect(script.terminationStatus == 138, "stderr: \(stderr)")
        #expect(stderr.contains("plugin-host: 2 tasks, 1 done, 1 cancelled in ") && stderr.contains("(drained)"), "stderr: \(stderr)")
        #expect(String(decoding: ProcessProbe.readFile(calls) ?? [], as: UTF8.self) == "requeue 4242\n")
        withExtendedLifetime(directory) {}  // the FIFO, PATH and files lived until the script ended
    }
}
