// ParMap under --journal resumes from checkpoints of its own ("ph.checkpoint/1", issue 14): the
// journal holds no response, a resumed run checks the output file against the last checkpoint,
// cuts it there and reads the input from there. Faults are caused: a worker kills the master
// with SIGKILL (pmf_kill_master_once), and the output is changed behind the journal's back.
import Foundation
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("ParMap resumes from its checkpoints")
struct ParMapCheckpointTests {
    static let jobs = 2
    /// Lines of about 2 KiB, 8 to a chunk: each chunk writes more than the 16 KiB between two
    /// checkpoints, so a kill redoes at most the chunks open (ParMap's window, 4 per worker) and one.
    static let line = String(repeating: "a", count: 2100)

    struct Setup {
        let directory = TemporaryDirectory()
        let input: String
        let output: String
        let markers: [String]
        let arguments: [String]

        init(killsAt kills: [Int]) {
            var lines: [String] = []
            var markers: [String] = []
            for index in 1...600 {
                lines.append("\(index)" + ParMapCheckpointTests.line)
                if [50, 250, 450].contains(index) { lines.append("segv") }  // A failed line, after a split chunk.
                if kills.contains(index) {
                    markers.append(directory.file("kill\(index)"))
                    lines.append("kill-master:" + markers.last!)
                }
            }
            input = directory.write("input", lines.joined(separator: "\n") + "\n")
            output = directory.file("out")
            self.markers = markers
            arguments = ["parmap", "--library", TestPaths.binDirectory + "/libParMapFixture.so", "--symbol", "pmf_kill_master_once", "--signature",
                         "string(string)", "--chunk", "8", "--input", input, "--output", output]
        }

        /// The uninterrupted run, then the same with a journal (at "journal" in the directory).
        func referenceAndJournaledRun() async throws -> (reference: (result: CLIResult, output: [UInt8], started: Int), journal: String) {
            let reference = try await reference()
            let journal = directory.file("journal")
            let first = try await HostProcess.run(["run", "-j", "\(jobs)", "--quiet", "--journal", journal] + arguments)
            #expect(first.status == 1, "stderr: \(first.stderr)")
            return (reference, journal)
        }

        /// An uninterrupted run (every marker there: no worker kills the master).
        func reference() async throws -> (result: CLIResult, output: [UInt8], started: Int) {
            for marker in markers { _ = directory.write(marker.split(separator: "/").last.map(String.init)!, "") }
            defer { for marker in markers { unlink(marker) } }
            let events = directory.file("reference.events")
            let result = try await HostProcess.run(["run", "-j", "\(jobs)", "--quiet", "--events", events] + arguments)
            return (result, ProcessProbe.readFile(output) ?? [], startedTasks(events))
        }
    }

    static func startedTasks(_ events: String) -> Int { ResumeUntilDone.startedTasks(events) }

    @Test("killed with SIGKILL three times and resumed: the uninterrupted run's output file and report, no response journaled, at most the open chunks redone")
    func killAndResume() async throws {
        let setup = Setup(killsAt: [150, 330, 520])
        let reference = try await setup.reference()
        #expect(reference.result.status == 1, "stderr: \(reference.result.stderr)")
        // Failures are listed in input order (each chunk's counted once all its lines are written).
        #expect(reference.result.stdout.contains("3 failed; 76 chunks, 9 splits after lost workers\nparmap: failed line 51: SIGSEGV\n"
                                                 + "parmap: failed line 253: SIGSEGV\nparmap: failed line 455: SIGSEGV\n"),
                "stdout: \(reference.result.stdout)")
        let journal = setup.directory.file("journal")
        let resumed = try await ResumeUntilDone(["-j", "\(Self.jobs)", "--quiet"], journal: journal, setup.arguments, in: setup.directory, runs: 6)
        let (final, kills, started) = (resumed.final, resumed.kills, resumed.started)
        #expect(kills == 3)
        #expect(final?.status == reference.result.status, "stderr: \(final?.stderr ?? "")")
        #expect(final?.stdout == reference.result.stdout)
        let same = ProcessProbe.readFile(setup.output) == reference.output  // (No byte dump on failure.)
        #expect(same, "the output file differs from an uninterrupted run's")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.entries.isEmpty, "task ends journaled: \(contents.entries.count)")
        #expect((contents.checkpoints[0]?.count ?? 0) > 0)
        let journalSize = (try? FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int) ?? 0
        #expect(journalSize * 20 < reference.output.count, "journal \(journalSize) bytes, output \(reference.output.count)")
        // Killed runs lose the --events lines still buffered, so this undercounts them; the bound
        // is the window of open chunks (4 per worker) and one more per kill.
        #expect(started <= reference.started + kills * (4 * Self.jobs + 1), "started \(started), uninterrupted \(reference.started)")
    }

    @Test("a resume whose output lost its tail starts from an earlier checkpoint; one that is not the journal's output is refused, exit 2, output and journal untouched")
    func outputAgainstTheJournal() async throws {
        let setup = Setup(killsAt: [])
        let reference = try await setup.reference()
        let journal = setup.directory.file("journal")
        let first = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--journal", journal] + setup.arguments)
        #expect(first.status == 1)
        // A tail the disk lost (an operating system crash after a checkpoint was written, before
        // the output reached the disk): the newest checkpoints do not hold, an older one does.
        try #require(truncate(setup.output, off_t(reference.output.count - 40_000)) == 0)
        let events = setup.directory.file("events")
        let lost = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--events", events, "--resume", journal]
                                             + setup.arguments)
        #expect(lost.status == 1, "stderr: \(lost.stderr)")
        #expect(lost.stdout == reference.result.stdout)
        let same = ProcessProbe.readFile(setup.output) == reference.output
        #expect(same, "the output file differs from an uninterrupted run's")
        let redone = Self.startedTasks(events)
        #expect(redone > 0 && redone < reference.started / 4, "redone \(redone) of \(reference.started)")
        // Another file in its place: refused, nothing written.
        _ = setup.directory.write("out", "not the output\n")
        let journalBefore = ProcessProbe.readFile(journal)
        let other = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--resume", journal] + setup.arguments)
        #expect(other.status == 2)
        #expect(other.errorLines.count == 1, "stderr: \(other.stderr)")
        #expect(other.errorLines.first?.hasPrefix("plugin-host: error: --resume: parmap: \(setup.output): --output holds 15 bytes, the journal records ") == true,
                "stderr: \(other.stderr)")
        #expect(ProcessProbe.readFile(setup.output) == Array("not the output\n".utf8))
        let unchanged = ProcessProbe.readFile(journal) == journalBefore
        #expect(unchanged, "the refused run changed the journal")
    }
    /// The journal at `path` as if written in another boot, its outputs synced once, after
    /// records 0..<`through`: segment boot ids replaced, markers set to 0 (record numbers kept),
    /// one marker appended.
    static func rebooted(_ path: String, syncedThrough through: Int) throws {
        let bytes = ProcessProbe.readFile(path) ?? []
        var rewritten: [UInt8] = []
        var offset = 0
        while offset + JournalCodec.framing <= bytes.count {
            let length = bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
            let record = Array(bytes[offset..<offset + JournalCodec.framing + length])
            switch record[JournalCodec.framing] {
            case JournalCodec.segmentType: rewritten += JournalCodec.record(segmentBoot: "another-boot")
            case JournalCodec.syncedType: rewritten += JournalCodec.record(syncedThrough: 0)
            default: rewritten += record
            }
            offset += record.count
        }
        rewritten += JournalCodec.record(syncedThrough: through)
        try Data(rewritten).write(to: URL(fileURLWithPath: path))
    }

    @Test("a resume after a reboot (the journal's segment in another boot) starts from the last checkpoint synced with its output, and ends with the same output")
    func rebootTrustsSyncedCheckpoints() async throws {
        let setup = Setup(killsAt: [])
        let (reference, journal) = try await setup.referenceAndJournaledRun()
        let written = try JournalReader.read(path: journal)
        #expect(written.segments.count == 1)
        let numbers = try #require(written.checkpointRecordNumbers[0])
        try #require(numbers.count >= 4)
        // The same boot: the newest checkpoint counts.
        let sameEvents = setup.directory.file("same.events")
        let same = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--events", sameEvents, "--resume", journal] + setup.arguments)
        #expect(same.status == 1, "stderr: \(same.stderr)")
        #expect(same.stdout == reference.result.stdout)
        // Another boot, the outputs synced after the first half of the checkpoints: the newest of those counts.
        try Self.rebooted(journal, syncedThrough: numbers[numbers.count / 2 - 1] + 1)
        let shown = try await HostProcess.run(["journal", journal])
        #expect(shown.stdout.contains(" checkpoints (\(numbers.count / 2) synced with their output)"), "stdout: \(shown.stdout)")
        let otherEvents = setup.directory.file("other.events")
        let other = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--events", otherEvents, "--resume", journal] + setup.arguments)
        #expect(other.status == 1, "stderr: \(other.stderr)")
        #expect(other.stdout == reference.result.stdout)
        let identical = ProcessProbe.readFile(setup.output) == reference.output
        #expect(identical, "the output file differs from an uninterrupted run's")
        let (sameRedone, otherRedone) = (Self.startedTasks(sameEvents), Self.startedTasks(otherEvents))
        #expect(otherRedone > sameRedone, "redone: same boot \(sameRedone), another boot \(otherRedone)")
        #expect(otherRedone < reference.started, "redone \(otherRedone) of \(reference.started): not from the synced checkpoint")
        // Written in this boot now: the resume's segment is this boot's.
        let resumed = try JournalReader.read(path: journal)
        #expect(resumed.segments.map(\.boot).last == BootID.current)
    }

    @Test("a format 1 journal (written before checkpoints) resumes journaled by responses: no checkpoint appended, and it reads back")
    func formatOneJournal() async throws {
        let setup = Setup(killsAt: [])
        let (reference, journal) = try await setup.referenceAndJournaledRun()
        // The same run's journal as format 1 wrote it before any task ended: its header alone.
        var header = try JournalReader.read(path: journal).header
        header.version = 1
        try Data(JournalCodec.record(header: header)).write(to: URL(fileURLWithPath: journal))
        let resumed = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--resume", journal] + setup.arguments)
        #expect(resumed.status == reference.result.status, "stderr: \(resumed.stderr)")
        #expect(resumed.stdout == reference.result.stdout)
        let same = ProcessProbe.readFile(setup.output) == reference.output
        #expect(same, "the output file differs from an uninterrupted run's")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.header.version == 1)
        #expect(contents.checkpointRecords == 0)
        #expect(!contents.entries.isEmpty, "no task end journaled")
    }
    @Test("a resume refused by a later checkpointed kind of the job file leaves an earlier kind's output as it was (cut only at the first pull)")
    func refusedAfterAnAcceptedResume() async throws {
        let setup = Setup(killsAt: [])
        let reference = try await setup.reference()
        let second = setup.directory.file("out2")
        let line = { (output: String) in
            setup.arguments.map { $0 == setup.output ? output : $0 }.map { "'\($0)'" }.joined(separator: " ")
        }
        let jobs = setup.directory.write("jobs.txt", line(setup.output) + "\n" + line(second) + "\n")
        let journal = setup.directory.file("journal")
        let first = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--journal", journal, "--job-file", jobs])
        #expect(first.status == 1, "stderr: \(first.stderr)")
        let whole = ProcessProbe.readFile(setup.output)
        #expect(whole == reference.output)
        // Bytes past the first kind's last checkpoint (a resume would cut them), and a second
        // output that is not the journal's (its kind refuses the resume).
        let grown = (whole ?? []) + Array("past the last checkpoint\n".utf8)
        try Data(grown).write(to: URL(fileURLWithPath: setup.output))
        _ = setup.directory.write("out2", "not the output\n")
        let refused = try await HostProcess.run(["run", "-j", "\(Self.jobs)", "--quiet", "--resume", journal, "--job-file", jobs])
        #expect(refused.status == 2)
        #expect(refused.errorLines.count == 1, "stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("\(second): --output holds 15 bytes"), "stderr: \(refused.stderr)")
        let untouched = ProcessProbe.readFile(setup.output) == grown
        #expect(untouched, "the refused run changed the first kind's output")
        #expect(ProcessProbe.readFile(second) == Array("not the output\n".utf8))
    }
}
