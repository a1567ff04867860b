// --trace and `plugin-host trace`: a chaos run with crashes, a hang past its time limit, a
// follow-up and feedback, checked slice by slice against its own --events file.
import Foundation
@testable import PluginHost
import TestSupport
import Testing

@Suite("Chrome trace")
struct TraceTests {
    static let chaosTasks = ["echo:a", "segv", "noisy-death", "@300 hang", "followup:2", "feedback:3", "exit:3", "taskfail:oops", "echo:b"]

    /// The JSON objects of a trace file (which must parse as one JSON array).
    static func entries(_ path: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    /// The events of an events file, as JSON objects.
    static func events(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func args(_ entry: [String: Any]) -> [String: Any] { entry["args"] as? [String: Any] ?? [:] }
    static func attempt(_ entry: [String: Any]) -> Int { args(entry)["attempt"] as? Int ?? 0 }

    @Test("--trace: one slice per attempt with its outcome, slot tracks, deaths, feedback; `trace` converts the events to the same file")
    func traceOfChaosRun() async throws {
        let directory = TemporaryDirectory()
        let events = directory.file("events.jsonl"), trace = directory.file("trace.json")
        let result = try await HostProcess.run(["run", "-j", "3", "--retries", "1", "--events", events, "--trace", trace, "chaos"] + Self.chaosTasks)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let log = try Self.events(events)
        let entries = try Self.entries(trace)

        let slices = entries.filter { $0["ph"] as? String == "X" && $0["cat"] as? String == "chaos" }
        let started = log.filter { $0["event"] as? String == "task-started" }
        #expect(slices.count == started.count, "one slice per attempt")
        // Each task's last attempt carries its outcome, the earlier ones are lost.
        for ended in log where ended["event"] as? String == "task-ended" {
            let task = ended["task"] as! Int
            let attempts = slices.filter { Self.args($0)["task"] as? Int == task }.sorted { Self.attempt($0) < Self.attempt($1) }
            let outcomes = attempts.map { Self.args($0)["outcome"] as! String }
            #expect(outcomes.last == ended["outcome"] as? String, "task \(task): \(outcomes)")
            #expect(outcomes.dropLast().allSatisfy { $0 == "lost" }, "task \(task): \(outcomes)")
            #expect(attempts.map(Self.attempt) == Array((1...max(attempts.count, 1)).prefix(attempts.count)))
        }
        let names = Set(slices.compactMap { ($0["args"] as! [String: Any])["name"] as? String })
        #expect(names.isSuperset(of: ["#0 echo:a", "#1 segv", "#2 noisy-death", "#6 exit:3"]), "\(names)")
        #expect(names.contains { $0.hasPrefix("#9 state:1@") }, "the follow-up is a slice too: \(names)")
        // Every slice sits on the track of the slot in its worker's name, and that track is named.
        let trackNames = Dictionary(uniqueKeysWithValues: entries.filter { $0["name"] as? String == "thread_name" }
            .map { ($0["tid"] as! Int, ($0["args"] as! [String: Any])["name"] as! String) })
        for slice in slices {
            let worker = ((slice["args"] as! [String: Any])["worker"] as! String)
            let slot = Int(worker.split(separator: ":")[1])!
            #expect(slice["tid"] as? Int == slot + 1)
            #expect(trackNames[slot + 1] == "slot \(slot)")
        }
        let unplannedEnds = log.filter { $0["event"] as? String == "worker-ended" && !WorkerEndReason.isPlanned($0["reason"] as! String) }
        let deaths = entries.filter { $0["name"] as? String == "worker died" }
        #expect(deaths.count == unplannedEnds.count)
        #expect(deaths.count >= 5, "segv, noisy-death and exit twice each, the hang's kills")
        #expect(deaths.contains { (($0["args"] as! [String: Any])["reason"] as! String).contains("SIGSEGV") })
        #expect(entries.filter { $0["name"] as? String == "feedback" }.count == 3)
        let births = entries.filter { ($0["name"] as? String)?.hasPrefix("start chaos:") == true }
        #expect(births.count == log.filter { $0["event"] as? String == "worker-started" }.count)

        // The same events converted afterwards give the same trace, byte for byte.
        let converted = directory.file("converted.json")
        let conversion = try await HostProcess.run(["trace", events, "-o", converted])
        #expect(conversion.status == 0, "stderr: \(conversion.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: converted)) == Data(contentsOf: URL(fileURLWithPath: trace)))
    }

    @Test("trace and report: a truncated or foreign events file is one line naming file and line, exit 2")
    func badEventsFiles() async throws {
        let directory = TemporaryDirectory()
        let good = "{\"time\":0.1,\"event\":\"task-queued\",\"task\":1,\"kind\":\"chaos\",\"name\":\"#0 echo\"}\n"
        let truncated = directory.write("cut.jsonl", good + "{\"time\":0.2,\"event\":\"task-sta")
        let foreign = directory.write("other.jsonl", good + good + "{\"time\":1,\"kind\":\"x\"}\n")
        let badOutcome = directory.write("outcome.jsonl", "{\"time\":1,\"event\":\"task-ended\",\"task\":1,\"kind\":\"k\",\"outcome\":\"won\"}\n")
        for command in ["trace", "report"] {
            for (file, expected) in [(truncated, "cut.jsonl:2: the line ends inside a string"), (foreign, "other.jsonl:3: not a plugin-host event"),
                                     (badOutcome, "outcome.jsonl:1: task-ended: unknown outcome 'won'"),
                                     (directory.file("missing.jsonl"), "missing.jsonl: cannot read the events file")] {
                let output = directory.file("out-\(command)")
                let result = try await HostProcess.run([command, file, "-o", output])
                #expect(result.status == 2, "\(command) \(file): \(result.stderr)")
                #expect(result.errorLines.count == 1 && result.stderr.contains(expected), "\(command): \(result.stderr)")
                #expect(!result.stderr.contains("Fatal error"))
            }
        }
    }

    @Test("events read back are the events written: every kind, escapes and unknown events")
    func eventLinesRoundTrip() throws {
        let kinds: [HostEvent.Kind] = [
            .taskQueued(task: 7, kind: "chaos", name: "a \"quoted\"\\ name\n\t\u{1} é 😀 </script>", parent: 3),
            .taskQueued(task: 8, kind: "chaos", name: nil, parent: nil),
            .taskStarted(task: 7, worker: "chaos:2:11", attempt: 2),
            .taskEnded(task: 7, kind: "chaos", outcome: .expired, message: "expired after 2 attempt(s)"),
            .taskEnded(task: 8, kind: "chaos", outcome: .done, message: nil),
            .taskRetried(task: 7, reason: "chaos:2:11 (pid 12) was killed by signal 11 (SIGSEGV)"),
            .workerStarted(worker: "chaos:0:1", pid: 4242, startup: 0.001234),
            .workerEnded(worker: "chaos:0:1", reason: "end"),
            .spawnFailed(kind: "chaos", message: "no such file"),
            .hostDown(host: "node1", message: "silent", seconds: 2.5),
            .hostDropped(host: "node1", message: "too many failures"),
            .feedback(worker: "chaos:0:1", task: 9, bytes: 300),
            .log(source: "chaos", level: 2, message: "careful"),
        ]
        for kind in kinds {
            let line = HostEvent(time: 12.345678, kind: kind).jsonLine
            let parsed = try line.utf8CString.withUnsafeBufferPointer { buffer in
                try buffer.withMemoryRebound(to: UInt8.self) { try HostEvent(jsonLine: UnsafeBufferPointer(rebasing: $0.dropLast())) }
            }
            #expect(parsed?.kind == kind, "\(line)")
            #expect(parsed?.time == 12.345678)
            #expect(parsed?.jsonLine == line)
        }
        let future = Array("{\"time\":1,\"event\":\"from-a-newer-host\",\"x\":true}".utf8)
        #expect(try future.withUnsafeBufferPointer { try HostEvent(jsonLine: $0) } == nil, "unknown events are skipped")
    }

    /// The task entries of a trace, without their times: what a run's trace says of its tasks.
    static func taskEntries(_ path: String) throws -> [String] {
        try entries(path).filter { ($0["cat"] as? String) == "chaos" || ($0["name"] as? String)?.hasPrefix("task ") == true }
            .map { entry in
                let args = Self.args(entry).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return "\(entry["name"] ?? "") \(args.filter { !$0.hasPrefix("worker=") }.joined(separator: " "))"
            }
    }

    @Test("--trace alone (its queued events sent late) names every task as with --events beside it, replayed ones too")
    func traceAloneNamesTasksAsWithEvents() async throws {
        let directory = TemporaryDirectory()
        let chaos = ["chaos", "echo:a", "taskfail:oops", "followup:2", "echo:b"]
        let journal = directory.file("j"), first = directory.file("first.json")
        let run = try await HostProcess.run(["run", "-j", "1", "--quiet", "--journal", journal, "--trace", first] + chaos)
        #expect(run.status == 1, "stderr: \(run.stderr)")
        let slices = try Self.entries(first).filter { $0["ph"] as? String == "X" && $0["cat"] as? String == "chaos" }
        #expect(slices.count == 5)
        #expect(slices.allSatisfy { Self.args($0)["name"] as? String == $0["name"] as? String && ($0["name"] as? String)?.hasPrefix("#") == true })
        // Every task replayed from the journal: the trace's entries as when --events wants the
        // queued events at once.
        let late = directory.file("late.json"), early = directory.file("early.json")
        _ = try await HostProcess.run(["run", "-j", "1", "--quiet", "--resume", journal, "--trace", late] + chaos)
        _ = try await HostProcess.run(["run", "-j", "1", "--quiet", "--resume", journal, "--trace", early,
                                       "--events", directory.file("events.jsonl")] + chaos)
        let replayed = try Self.taskEntries(late)
        #expect(replayed.count == 5)
        #expect(replayed == (try Self.taskEntries(early)))
    }
}
