// What the operator sees on the terminal: plugin log levels (-v, --log-level), failure lines that
// name the task, "--events -", host options after the plugin name, singular counts, and a
// progress line in human units that a message clears first.
@testable import plugin_host
import PluginHost
import TestSupport
import Testing

@Suite("Operator output")
struct OperatorOutputTests {
    @Test("plugin log lines: warnings by default, info with -v, debug with --log-level debug, errors only with --log-level error")
    func logLevels() async throws {
        let tasks = ["log:0:a debug line", "log:1:an info line", "log:2:a warning line", "log:3:an error line"]
        func shown(_ options: [String]) async throws -> [String] {
            let result = try await HostProcess.run(["run", "-j", "1"] + options + ["chaos"] + tasks)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            return result.errorLines.filter { $0.hasPrefix("chaos: ") }
        }
        #expect(try await shown([]) == ["chaos: a warning line", "chaos: an error line"])
        #expect(try await shown(["-v"]) == ["chaos: an info line", "chaos: a warning line", "chaos: an error line"])
        #expect(try await shown(["--log-level", "debug"]) == tasks.map { "chaos: " + $0.dropFirst("log:0:".count) })
        #expect(try await shown(["--log-level", "error"]) == ["chaos: an error line"])
        let bad = try await HostProcess.run(["run", "--log-level", "loud", "chaos", "echo"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--log-level takes debug, info, warning or error"), "stderr: \(bad.stderr)")
    }

    @Test("--events - writes the JSON Lines to stdout, before the plugin's report")
    func eventsToStandardOutput() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--events", "-", "chaos", "echo:a"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("{\"time\":") == true, "stdout: \(result.stdout)")
        #expect(lines.contains { $0.contains("\"event\":\"task-ended\",\"task\":1,\"kind\":\"chaos\",\"outcome\":\"done\"") })
        #expect(lines.last?.hasPrefix("chaos: 1 tasks, done 1") == true, "stdout: \(result.stdout)")
    }

    @Test("a host option after the plugin name: passed to the plugin, with a warning naming it")
    func hostOptionAfterPluginName() async throws {
        let result = try await HostProcess.run(["run", "chaos", "-j", "2", "--timeout=3", "echo"])
        #expect(result.stderr.contains("plugin-host: warning: '-j' after the plugin name is passed to chaos; put host options before it"),
                "stderr: \(result.stderr)")
        #expect(result.stderr.contains("plugin-host: warning: '--timeout=3' after the plugin name is passed to chaos"))
        #expect(MisplacedOptions.misplaced(["echo:a", "--file", "x", "--no-pin", "-v", "--", "-j"]) == ["--no-pin", "-v"])
        #expect(MisplacedOptions.misplaced(["--repeat", "2", "echo"]).isEmpty)
        for option in ["-j", "--jobs", "--policy", "--events", "--progress", "--no-progress", "--log-level", "--verbose", "--worker"] {
            #expect(MisplacedOptions.hostOptions.contains(option), "\(option)")
        }
    }

    @Test("the progress line is cleared before a message: the failure line starts on a clean line")
    func progressClearedBeforeMessages() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--progress", "--timeout", "0.6", "--retries", "0", "chaos", "hang"])
        #expect(result.status == 1)
        let failure = try #require(result.stderr.split(separator: "\n").first { $0.contains("(#0 hang) expired") })
        // Whatever the terminal showed before on that line was erased (CR, erase line) first.
        let shown = failure.split(separator: "\u{1B}[K", omittingEmptySubsequences: false).last ?? failure
        #expect(shown.hasPrefix("plugin-host: chaos task 1 (#0 hang) expired"), "line: \(Array(failure.utf8))")
    }

    @Test("progress in human units")
    func humanUnits() {
        #expect(HumanUnits.count(950) == "950")
        #expect(HumanUnits.count(12_345) == "12.3k")
        #expect(HumanUnits.count(4_500_000) == "4.50M")
        #expect(HumanUnits.bytes(999) == "999 B")
        #expect(HumanUnits.bytes(999_999) == "1.00 MB")
        #expect(HumanUnits.rate(1_234_567, unit: "bytes") == "1.23 MB/s")
        #expect(HumanUnits.progress(done: 1_500, total: nil, unit: "proofs") == "1.50k/? proofs")
        #expect(HumanUnits.progress(done: 4_500_000, total: 12_000_000, unit: "bytes") == "4.50 MB/12.0 MB")
        #expect(HumanUnits.duration(42) == "42 s")
        #expect(HumanUnits.duration(125) == "2 min 05 s")
        #expect(HumanUnits.duration(3 * 3600 + 7 * 60) == "3 h 07 min")
        #expect(HumanUnits.counted(1, "task") == "1 task")
        #expect(HumanUnits.counted(0, "task") == "0 tasks")
    }

    @Test("an explicit --policy one-shot ends a worker that answers stay, and says so once (end to end)")
    func oneShotBindsEndToEnd() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--policy", "one-shot", "chaos", "stay:a", "stay:b", "stay:c"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let warnings = result.errorLines.filter { $0.contains("the policy is one-shot") }
        #expect(warnings == ["plugin-host: warning: chaos answers stay, but the policy is one-shot: each of its workers ends after one task"])
        #expect(result.stderr.contains("3 tasks, 3 done"))
        #expect(result.stderr.contains(", 3 workers started"), "stderr: \(result.stderr)")
    }
}
