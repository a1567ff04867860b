// The `plugin-host` command line, run as a separate process: exit statuses, one-line errors that
// name what is wrong (FILE:LINE: for files), the events file, job files, list/describe, SIGINT.
import Foundation
import PluginABI
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Command line")
struct CLITests {
    @Test("an unknown plugin name: exit 2 and one error line naming it")
    func unknownPlugin() async throws {
        let result = try await HostProcess.run(["run", "no-such-plugin", "echo"])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.errorLines.first?.hasPrefix("plugin-host: error: ") == true)
        #expect(result.errorLines.first?.contains("'no-such-plugin'") == true)
        #expect(result.stdout.isEmpty)
    }

    @Test("a bad line in a chaos --file: exit 2 and FILE:LINE: in the message")
    func badTaskFileLine() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("tasks.txt", "echo:a\n\n# a comment\n  echo:b  \nxyz:1\necho:c\n")
        let result = try await HostProcess.run(["run", "chaos", "--file", file])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(file):5: unknown chaos action 'xyz'"), "stderr: \(result.stderr)")
    }

    @Test("run chaos echo:a exits 0 and prints the plugin's report")
    func successExitsZero() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "chaos", "echo:a"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("chaos: 1 tasks, done 1, failed 0"), "stdout: \(result.stdout)")
        #expect(result.stderr.contains("plugin-host: 1 task, 1 done"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(", 1 worker started"), "stderr: \(result.stderr)")
    }

    @Test("run chaos segv exits 1 and says which task failed")
    func failureExitsOne() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "chaos", "echo:a", "segv"])
        #expect(result.status == 1)
        // The id, then the plugin's name for the task (name_of_task).
        #expect(result.stderr.contains("plugin-host: chaos task 2 (#1 segv) failed: worker died 2 time(s)"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("SIGSEGV"))
    }

    @Test("--timeout and --retries reach the run: a hang expires and the exit status is 1")
    func timeoutOption() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--timeout", "0.2", "--retries", "0", "chaos", "hang"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("chaos task 1 (#0 hang) expired"), "stderr: \(result.stderr)")
    }

    @Test("--events FILE writes one JSON object per line, task-ended included")
    func eventsFile() async throws {
        let directory = TemporaryDirectory()
        let events = directory.file("events.jsonl")
        let result = try await HostProcess.run(["run", "-j", "1", "--events", events, "chaos", "echo:a", "feedback:2", "exit:4"])
        #expect(result.status == 1)
        let text = String(decoding: try #require(ProcessProbe.readFile(events)), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        let names = objects.compactMap { $0["event"] as? String }
        #expect(names.count == lines.count, "every line names its event")
        for expected in ["task-started", "task-ended", "task-retried", "worker-started", "worker-ended", "feedback"] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        // (Regression: the initial task-queued events were lost when the observer came after addKind.)
        #expect(names.filter { $0 == "task-queued" }.count == 3, "events: \(names)")
        #expect(names.first == "task-queued")
        let ended = objects.filter { $0["event"] as? String == "task-ended" }
        #expect(ended.count == 3)
        #expect(Set(ended.compactMap { $0["task"] as? Int }) == [1, 2, 3])
        #expect(ended.first { $0["task"] as? Int == 3 }?["outcome"] as? String == "failed")
        #expect(ended.first { $0["task"] as? Int == 1 }?["outcome"] as? String == "done")
        #expect(objects.allSatisfy { $0["time"] is Double || $0["time"] is Int })
    }

    @Test("--job-file runs two kinds in one master")
    func jobFileTwoKinds() async throws {
        let directory = TemporaryDirectory()
        let jobs = directory.write("jobs.txt", """
            # two chaos kinds
            chaos echo:a echo:b

            chaos --policy persistent echo:c 'echo:with space' "echo:x y"
            """)
        let result = try await HostProcess.run(["run", "-j", "2", "--job-file", jobs])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let reports = result.stdout.split(separator: "\n").filter { $0.hasPrefix("chaos: ") }
        #expect(reports == ["chaos: 2 tasks, done 2, failed 0, cancelled 0, expired 0, skipped 0, feedback 0, lost 0",
                            "chaos: 3 tasks, done 3, failed 0, cancelled 0, expired 0, skipped 0, feedback 0, lost 0"])
        #expect(result.stderr.contains("5 tasks, 5 done"))
    }

    @Test("a bad job-file line: exit 2 with FILE:LINE:", arguments: [
        "chaos --policy sometimes echo:b",
        "chaos 'echo:unterminated",
    ])
    func badJobFileLine(line: String) async throws {
        let directory = TemporaryDirectory()
        let jobs = directory.write("jobs.txt", "chaos echo:a\n\(line)\n")
        let result = try await HostProcess.run(["run", "--job-file", jobs])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(jobs):2: "), "stderr: \(result.stderr)")
    }

    @Test("a job-file line whose plugin or plugin arguments are bad also names FILE:LINE:", arguments: [
        "chaos xyz",
        "no-such-plugin echo",
    ])
    func badJobFilePluginLine(line: String) async throws {
        let directory = TemporaryDirectory()
        let jobs = directory.write("jobs.txt", "chaos echo:a\n\(line)\n")
        let result = try await HostProcess.run(["run", "--job-file", jobs])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        // (Regression: errors from loading or opening a job file's kind did not name FILE:LINE:.)
        #expect(result.stderr.contains("\(jobs):2: "), "stderr: \(result.stderr)")
    }

    @Test("command-line usage errors exit with status 2, as documented", arguments: [
        ["run", "-j", "0", "chaos", "echo"],
        ["run", "--policy", "sometimes", "chaos", "echo"],
        ["run"],
    ])
    func usageErrorsExitTwo(arguments: [String]) async throws {
        let result = try await HostProcess.run(arguments)
        // (Regression: ArgumentParser's validation errors exited 64, not the documented 2.)
        #expect(result.status == 2, "status \(result.status), stderr: \(result.stderr)")
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.errorLines.first?.hasPrefix("plugin-host: error: ") == true)
    }

    @Test("list --plugin-path BUILD_DIR shows the chaos plugin (a test fixture, hidden without it)")
    func listShowsChaos() async throws {
        let result = try await HostProcess.run(["list", "--plugin-path", TestPaths.binDirectory])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NAME") == true)
        let chaos = try #require(lines.first { $0.hasPrefix("chaos ") })
        #expect(chaos.contains("1.0.0") && chaos.contains("one-shot") && chaos.contains("libChaosPlugin.so"))
    }

    @Test("describe chaos shows the version, description and usage")
    func describeChaos() async throws {
        let result = try await HostProcess.run(["describe", "chaos"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("chaos 1.0.0 (ABI \(PH_ABI_VERSION_MAJOR).\(PH_ABI_VERSION_MINOR), default policy one-shot)"))
        #expect(result.stdout.contains("Fault injection for PluginHost tests"))
        #expect(result.stdout.contains("chaos [--file PATH]... [--repeat N] [--pull] [--] TASK..."))
        let missing = try await HostProcess.run(["describe", "nothing-like-this"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("'nothing-like-this'"))
    }

    @Test("bad placement options: one line naming the file, line or program, exit 2",
          arguments: [("a 2\nb x\n", ["--launcher", "ssh"], ":2: slots must be a number from 1 to 4096, found 'x'"),
                      ("node1 2\n", [], ": host node1 needs a --launcher"),
                      (nil, ["--launcher", "no-such-launcher-xyz {host}"], "--launcher: no-such-launcher-xyz: not found in PATH")])
    func badPlacement(hostsFile: String?, options: [String], message: String) async throws {
        let directory = TemporaryDirectory()
        var arguments = ["run"] + options
        if let hostsFile { arguments += ["--hosts", directory.write("hosts", hostsFile)] }
        let result = try await HostProcess.run(arguments + ["chaos", "echo"])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test("SIGINT while a kind is still opening: one line, exit 130, not a death by signal")
    func sigintDuringSetUp() async throws {
        let directory = TemporaryDirectory()
        let fifo = directory.file("tasks.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        // The chaos kind reads its task file in master_open: from a FIFO, it waits for a writer.
        let host = try HostProcess(["run", "-j", "1", "chaos", "--file", fifo])
        // Opening the write end returns once the host opened the read end: it is in set-up.
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)
        try #require(writer >= 0)
        defer { close(writer) }
        kill(host.pid, SIGINT)
        let result = await host.result()
        #expect(result.status == 130, "stderr: \(result.stderr)")
        #expect(!result.signalled)
        #expect(result.errorLines == ["plugin-host: interrupted by SIGINT while setting up; no task ran"], "stderr: \(result.stderr)")
    }

    @Test("SIGINT to a running plugin-host: exit 130, the task cancelled, no worker left")
    func sigintCancelsAndExits() async throws {
        let directory = TemporaryDirectory()
        let events = directory.file("events.jsonl")
        let host = try HostProcess(["run", "-j", "1", "--progress", "--events", events, "chaos", "hang"])
        // The progress line shows the busy worker once the task runs.
        let running = try await host.waitForStderr(containing: "1/1 workers busy")
        try #require(running, "the hang task never showed as running")
        let workers = ProcessProbe.children(of: host.pid, containing: "plugin-worker")
        #expect(workers.count == 1)
        let names = workers.map { pid -> String in
            let line = ProcessProbe.commandLine(of: pid) ?? []
            return line.firstIndex(of: "--name").map { line[$0 + 1] } ?? "?"
        }
        kill(host.pid, SIGINT)
        let result = await host.result()
        #expect(result.status == 130, "stderr: \(result.stderr)")
        #expect(!result.signalled)
        #expect(result.stderr.contains("(interrupted)"))
        for (pid, name) in zip(workers, names) {
            #expect(!ProcessProbe.isAlive(pid: pid, name: name), "worker \(name) pid \(pid) left behind")
        }
        let text = String(decoding: ProcessProbe.readFile(events) ?? [], as: UTF8.self)
        #expect(text.contains("\"event\":\"task-ended\",\"task\":1,\"kind\":\"chaos\",\"outcome\":\"cancelled\""), "events: \(text)")
    }

    @Test("kill -9 of the master: its workers die with it (no orphans)")
    func masterKilledLeavesNoOrphans() async throws {
        // Exec'd workers, the host's own children (ForkServerTests checks forked ones).
        let host = try HostProcess(["run", "-j", "2", "--no-fork-server", "--progress", "chaos", "hang", "hang"])
        let running = try await host.waitForStderr(containing: "2/2 workers busy")
        try #require(running, "the hang tasks never showed as running")
        let workers = ProcessProbe.children(of: host.pid, containing: "plugin-worker")
        #expect(workers.count == 2)
        let names = workers.map { pid -> String in
            let line = ProcessProbe.commandLine(of: pid) ?? []
            return line.firstIndex(of: "--name").map { line[$0 + 1] } ?? "?"
        }
        kill(host.pid, SIGKILL)
        let result = await host.result()
        #expect(result.signalled)
        // The parent-death signal kills each worker; wait (bounded) for the kernel to deliver it.
        for (pid, name) in zip(workers, names) {
            var alive = true
            for _ in 0..<500 where alive {
                alive = ProcessProbe.isAlive(pid: pid, name: name)
                if alive { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(!alive, "worker \(name) pid \(pid) outlived its master")
        }
    }
}
