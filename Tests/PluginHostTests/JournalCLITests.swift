// --journal, --resume and --resume-failed through the real plugin-host (issue 14): a run killed
// with SIGKILL at several moments and resumed until done prints what an uninterrupted run prints,
// ends each task once in the journal, and redoes at most the tasks in flight at each kill; a
// missing, foreign, truncated or corrupted journal is refused with one line, exit 2, untouched.
import Foundation
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Journal and resume (CLI)")
struct JournalCLITests {
    /// Chaos with follow-ups pinned to their worker, feedback, failures and lazy input.
    static let chaos = ["chaos", "--pull", "--repeat", "12", "sleep:5", "feedback:2", "followup:2", "fail:x", "echo:b"]
    static let jobs = 3

    static func bytes(_ path: String) -> [UInt8] { ProcessProbe.readFile(path) ?? [] }

    static func startedTasks(_ events: String) -> Int { ResumeUntilDone.startedTasks(events) }

    @Test("killed with SIGKILL three times and resumed: the same output, each task ended once, little redone")
    func killAndResume() async throws {
        let directory = TemporaryDirectory()
        // A worker kills the master (chaos kill-master, once per marker file) after rounds 2, 6
        // and 9 of 12, while other tasks are in flight.
        var lines: [String] = []
        for round in 0..<12 {
            lines += ["sleep:5", "feedback:2", "followup:2", "fail:x", "echo:b"]
            if [2, 6, 9].contains(round) { lines.append("kill-master:" + directory.file("kill\(round)")) }
        }
        let tasks = directory.write("tasks", lines.joined(separator: "\n") + "\n")
        let arguments = ["chaos", "--pull", "--file", tasks]
        for round in [2, 6, 9] { _ = directory.write("kill\(round)", "") }
        let reference = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet"] + arguments)
        #expect(reference.status == 1)
        for round in [2, 6, 9] { unlink(directory.file("kill\(round)")) }

        let journal = directory.file("run.journal")
        let resumed = try await ResumeUntilDone(["-j", "\(Self.jobs)", "--quiet"], journal: journal, arguments, in: directory, runs: 5)
        let (final, kills, started) = (resumed.final, resumed.kills, resumed.started)
        #expect(kills == 3)
        #expect(final?.status == reference.status)
        #expect(final?.stdout == reference.stdout)
        let contents = try JournalReader.read(path: journal)
        // Each task's end is journaled once, but for a pinned tree run again: a follow-up that had
        // not ended needs its parent's worker, so the parent ran (and was journaled) again.
        let keys = Dictionary(grouping: contents.entries, by: \.key)
        #expect(keys.count == 12 * 6 + 3)  // 5 tasks per round and a follow-up, 3 killers.
        for (key, ends) in keys where ends.count > 1 {
            #expect(ends.allSatisfy { $0.evidence?.pinnedFollowUps.isEmpty == false }, "\(key) ended twice")
        }
        // Every task ran once, plus at most the tasks in flight at each kill (one per worker),
        // each with the parent a pinned follow-up needs (its worker's state died with the run).
        #expect(started <= 12 * 6 + 3 + kills * Self.jobs * 2, "started \(started)")
    }

    @Test("resuming a finished journal replays every task: same output, nothing appended")
    func resumeFinished() async throws {
        let directory = TemporaryDirectory()
        let journal = directory.file("j")
        let first = try await HostProcess.run(["run", "-j", "2", "--quiet", "--journal", journal] + Self.chaos)
        let before = Self.bytes(journal)
        let events = directory.file("events")
        let again = try await HostProcess.run(["run", "-j", "2", "--quiet", "--events", events, "--resume", journal] + Self.chaos)
        #expect(again.status == first.status)
        #expect(again.stdout == first.stdout)
        let unchanged = Self.bytes(journal) == before  // (Not in the expectation: no byte dump on failure.)
        #expect(unchanged, "the resumed journal changed")
        #expect(Self.startedTasks(events) == 0)
        // --resume-failed runs the 12 failed tasks again (they fail again) and journals them.
        let rerun = try await HostProcess.run(["run", "-j", "2", "--quiet", "--events", events, "--resume", journal, "--resume-failed"]
                                              + Self.chaos)
        #expect(rerun.stdout == first.stdout)
        #expect(Self.startedTasks(events) == 12)
        #expect(try JournalReader.read(path: journal).entries.count == 12 * 6 + 12)
        // plugin-host journal FILE counts them.
        let shown = try await HostProcess.run(["journal", journal])
        #expect(shown.status == 0)
        #expect(shown.stdout.hasPrefix("\(journal): 84 task ends (60 done, 24 failed, 0 expired); 72 tasks, 12 ended more than once\n"))
        #expect(shown.stdout.contains("\n  kind 1 plugin     chaos build "))
        let missing = try await HostProcess.run(["journal", directory.file("none")])
        #expect(missing.status == 2)
        #expect(missing.errorLines == ["plugin-host: error: \(directory.file("none")): no such journal (start one with --journal \(directory.file("none")))"])
    }

    @Test("a bad journal is refused with one line naming it, exit 2, and left untouched")
    func badJournals() async throws {
        let directory = TemporaryDirectory()
        let journal = directory.file("j")
        let arguments = ["chaos", "echo:a", "fail:b", "echo:c"]
        _ = try await HostProcess.run(["run", "-j", "1", "--quiet", "--journal", journal] + arguments)
        let good = Self.bytes(journal)
        func refused(_ path: String, _ options: [String], environment: [String: String] = [:], _ expected: String) async throws {
            let before = Self.bytes(path)
            let result = try await HostProcess.run(["run", "-j", "1", "--quiet"] + options + arguments, environment: environment)
            #expect(result.status == 2)
            #expect(result.errorLines == ["plugin-host: error: \(path): \(expected)"])
            let unchanged = Self.bytes(path) == before
            #expect(unchanged, "the refused journal changed")
        }
        try await refused(journal, ["--journal", journal],
                          "the journal already exists (continue it with --resume \(journal), or remove it)")
        let missing = directory.file("missing")
        try await refused(missing, ["--resume", missing], "no such journal (start one with --journal \(missing))")
        #expect(access(missing, F_OK) != 0)
        let header = directory.write("header", "")
        _ = FileManager.default.createFile(atPath: header, contents: Data(good.prefix(20)))
        try await refused(header, ["--resume", header], "the journal is truncated in its header (20 bytes)")
        let text = directory.write("text", "just some text, long enough to be read as a record\n")
        try await refused(text, ["--resume", text], "not a plugin-host journal")
        var damaged = good
        let first = (try JournalReader.decode(good, path: journal)).header
        let headerLength = JournalCodec.record(header: first).count
        damaged[headerLength + 10] ^= 0x10
        let corrupted = directory.file("corrupted")
        _ = FileManager.default.createFile(atPath: corrupted, contents: Data(damaged))
        try await refused(corrupted, ["--resume", corrupted], "the journal is corrupted at byte \(headerLength) (record 1 fails its checksum)")
        // Other arguments, other input identity.
        let foreign = try await HostProcess.run(["run", "-j", "1", "--resume", journal, "chaos", "echo:a"])
        #expect(foreign.status == 2)
        #expect(foreign.errorLines.count == 1)
        #expect(foreign.errorLines.first?.hasPrefix("plugin-host: error: \(journal): the journal is from another run: kind 1 arguments differs") == true)
        let input = try await HostProcess.run(["run", "-j", "1", "--resume", journal] + arguments,
                                              environment: ["CHAOS_JOURNAL_IDENTITY": "other input"])
        #expect(input.status == 2)
        #expect(input.errorLines.first?.hasPrefix("plugin-host: error: \(journal): the journal is from another run: kind 1 input differs (journal none") == true)
        let unchanged = Self.bytes(journal) == good
        #expect(unchanged, "a refused run changed the journal")
    }

    @Test("a kind that says it cannot be replayed is refused, and no journal is made")
    func notReplayable() async throws {
        let directory = TemporaryDirectory()
        let journal = directory.file("j")
        let result = try await HostProcess.run(["run", "--journal", journal, "chaos", "--not-replayable", "echo:a"])
        #expect(result.status == 2)
        #expect(result.errorLines == ["plugin-host: error: --journal: chaos cannot be replayed: chaos --not-replayable says so"])
        #expect(access(journal, F_OK) != 0)
    }

    @Test("--resume-failed without --resume, and --journal with --resume, are usage errors")
    func optionErrors() async throws {
        let lone = try await HostProcess.run(["run", "--resume-failed", "chaos", "echo:a"])
        #expect(lone.status == 2)
        #expect(lone.stderr.contains("--resume-failed needs --resume FILE"))
        let both = try await HostProcess.run(["run", "--journal", "a", "--resume", "b", "chaos", "echo:a"])
        #expect(both.status == 2)
    }
}
