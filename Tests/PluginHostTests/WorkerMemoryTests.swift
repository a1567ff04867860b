// --worker-memory: a real allocation past a real limit (RLIMIT_AS, set by the worker before it
// loads the plugin) ends the worker "out of memory", told apart from a crash, retried by its own
// count (--oom-retries), with its own loss reason (PH_LOSS_OUT_OF_MEMORY, ABI 2.2) that older
// plugins see as a worker's death.
import Foundation
@testable import PluginHost
import PluginABI
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker memory limit")
struct WorkerMemoryTests {
    /// The events file's lines as objects.
    private func events(_ path: String) throws -> [[String: Any]] {
        let text = String(decoding: try #require(ProcessProbe.readFile(path)), as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// Both mechanisms where this machine has them: cgroup `memory.max` (cgroup v2 owning the
    /// memory controller, as root) with worker cgroups, else and without them `RLIMIT_AS`.
    @Test("an allocation past --worker-memory ends the worker out of memory, retried by --oom-retries, apart from a crash",
          arguments: [(false, true), (true, true), (false, false), (true, false)])
    func allocationPastTheLimit(forkServer: Bool, workerCgroups: Bool) async throws {
        let directory = TemporaryDirectory()
        let eventsPath = directory.file("events.jsonl")
        let result = try await HostProcess.run(["run", "-j", "1", "--worker-memory", "256", "--retries", "0", "--oom-retries", "2",
                                                "--events", eventsPath] + (forkServer ? ["--fork-server"] : [])
                                               + (workerCgroups ? [] : ["--no-worker-cgroups"])
                                               + ["chaos", "alloc:1024", "alloc:16", "segv"])
        #expect(result.status == 1)
        let cgroupLimit = workerCgroups && RunCgroup.canLimitMemory
        let mechanism = cgroupLimit ? "cgroup memory.max" : "address-space limit, RLIMIT_AS"
        #expect(result.stderr.contains("plugin-host: workers limited to 256 MiB each (\(mechanism))"), "stderr: \(result.stderr)")
        let objects = try events(eventsPath)
        func ended(_ task: Int) -> [String: Any]? {
            objects.first { $0["event"] as? String == "task-ended" && $0["task"] as? Int == task }
        }
        // The allocation: three attempts (one and two OOM retries), each worker ended out of memory.
        let attempts = objects.filter { $0["event"] as? String == "task-started" && $0["task"] as? Int == 1 }
        #expect(attempts.count == 3, "--oom-retries 2 counts apart from --retries 0")
        #expect(ended(1)?["outcome"] as? String == "failed")
        let message = try #require(ended(1)?["message"] as? String)
        #expect(message.hasPrefix("worker ran out of memory 3 time(s); last: out of memory under --worker-memory 256 MiB: "),
                "message: \(message)")
        // The kernel's out-of-memory kill, or the plugin's abort after a failed allocation.
        #expect(message.contains(cgroupLimit ? "(SIGKILL)" : "(SIGABRT)"), "message: \(message)")
        let retried = objects.filter { $0["event"] as? String == "task-retried" && $0["task"] as? Int == 1 }
        #expect(retried.count == 2)
        #expect(retried.allSatisfy { ($0["reason"] as? String)?.hasPrefix("out of memory under --worker-memory 256 MiB") == true })
        let outOfMemoryEnds = objects.filter {
            $0["event"] as? String == "worker-ended" && ($0["reason"] as? String)?.hasPrefix("out of memory") == true
        }
        #expect(outOfMemoryEnds.count == 3)
        // Within the limit: done. A crash under the limit is a crash: one attempt (--retries 0).
        #expect(ended(2)?["outcome"] as? String == "done")
        #expect((ended(3)?["message"] as? String)?.hasPrefix("worker died 1 time(s): ") == true, "\(String(describing: ended(3)))")
        // The plugin saw the new reason (chaos declares ABI 2.2), the summary counts the deaths.
        #expect(result.stdout.contains("worker-died 1, spawn-failed 0, orphaned 0, out-of-memory 3;"), "stdout: \(result.stdout)")
        #expect(result.stderr.contains("3 tasks, 1 done, 2 failed in "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("workers started, 3 out of memory\n"), "stderr: \(result.stderr)")
    }

    @Test("a Swift plugin past --worker-memory: the runtime's trap after the failed allocation is out of memory too",
          .enabled(if: !RunCgroup.canLimitMemory))
    func swiftPluginPastTheLimit() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--worker-memory", "256", "--retries", "0", "--oom-retries", "0",
                                                "echo-swift", "alloc:1024", "alloc:8"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("echo-swift task 1 (echo-swift#0) failed: worker ran out of memory 1 time(s); last: "
                                       + "out of memory under --worker-memory 256 MiB: "), "stderr: \(result.stderr)")
        #expect(result.stdout.contains("echo-swift: 1 done, 1 failed"), "stdout: \(result.stdout)")
        #expect(result.stderr.contains("2 workers started, 1 out of memory\n"), "stderr: \(result.stderr)")
    }

    @Test("without --worker-memory a crash is never called out of memory, and nothing says a limit")
    func noLimitNoOutOfMemory() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--retries", "0", "chaos", "alloc:16", "abort"])
        #expect(result.status == 1)
        #expect(!result.stderr.contains("out of memory"), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("limited to"), "stderr: \(result.stderr)")
        #expect(result.stdout.contains("worker-died 1, spawn-failed 0, orphaned 0; marshal errors 0"), "stdout: \(result.stdout)")
    }

    @Test("bad --worker-memory and --oom-retries values are usage errors", arguments: [
        ["--worker-memory", "0"], ["--worker-memory", "-5"], ["--oom-retries", "-1"],
    ])
    func badValues(options: [String]) async throws {
        let result = try await HostProcess.run(["run"] + options + ["chaos", "echo"])
        #expect(result.status == 2)
        #expect(result.errorLines.first?.contains(options[0]) == true, "stderr: \(result.stderr)")
    }

    @Test("a plugin that declares ABI 2.0 or 2.1 sees out of memory as a worker's death; 2.2 and later see it")
    func olderPluginsSeeWorkerDied() {
        #expect(PH_LOSS_OUT_OF_MEMORY.seen(byABIMinor: 0) == PH_LOSS_WORKER_DIED)
        #expect(PH_LOSS_OUT_OF_MEMORY.seen(byABIMinor: 1) == PH_LOSS_WORKER_DIED)
        #expect(PH_LOSS_OUT_OF_MEMORY.seen(byABIMinor: 2) == PH_LOSS_OUT_OF_MEMORY)
        #expect(PH_LOSS_OUT_OF_MEMORY.seen(byABIMinor: 3) == PH_LOSS_OUT_OF_MEMORY)
        for reason in [PH_LOSS_CANCELLED, PH_LOSS_EXPIRED, PH_LOSS_WORKER_DIED, PH_LOSS_SPAWN_FAILED, PH_LOSS_ORPHANED] {
            #expect(reason.seen(byABIMinor: 0) == reason)
        }
    }
}

@Suite("--memfree with real readings")
struct MemfreeTests {
    @Test("MemAvailable is read from /proc/meminfo")
    func readsMemAvailable() throws {
        let available = try #require(SystemInfo.availableMemoryBytes())
        let text = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let total = try #require(text.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Int($0.split(separator: " ")[1]) }) << 10
        #expect(available > 0 && available <= total)
    }

    @Test("a floor above the machine's memory: one warning, no worker, SIGINT cancels; a low floor changes nothing")
    func floorAboveTheMachine() async throws {
        let host = try HostProcess(["run", "--memfree", "1P", "chaos", "echo:a"])
        #expect(try await host.waitForStderr(containing: "below --memfree 1073741824 MiB: no new worker starts until there is more"))
        kill(host.pid, SIGINT)
        let result = await host.result()
        #expect(result.status == 130)
        #expect(result.stderr.contains("1 task, 0 done, 1 cancelled in "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("0 workers started"), "stderr: \(result.stderr)")
        let low = try await HostProcess.run(["run", "--memfree", "1k", "chaos", "echo:a"])
        #expect(low.status == 0 && !low.stderr.contains("memfree"), "stderr: \(low.stderr)")
    }

    @Test("a --memfree that is not a size is a usage error", arguments: ["", "1X", "5Q", "G", "0"])
    func badSizes(size: String) async throws {
        let result = try await HostProcess.run(["run", "--memfree", size, "chaos", "echo"])
        #expect(result.status == 2)
        #expect(result.errorLines.first?.contains("--memfree takes a size") == true, "stderr: \(result.stderr)")
    }
}
