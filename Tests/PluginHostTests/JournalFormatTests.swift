// The journal's records (issue 14): what is written reads back the same, a torn last record (a
// master killed mid-write) is dropped at every byte it could be cut at, never misread, damage
// before the end is refused with one line, and the resume ledger replays only what it can.
@testable import PluginHost
import Testing

@Suite("Journal format")
struct JournalFormatTests {
    static let header = JournalHeader(identity: [("kind 1 plugin", "chaos build 0123"), ("kind 1 arguments", "abcd")])

    static let entries: [JournalEntry] = [
        JournalEntry(key: TaskKey(kind: 0, path: [0]), outcome: .done, message: nil,
                     evidence: ReplayEvidence(status: .fresh, worker: "chaos:0:1", feedback: [], response: Array("pid=1 F ok".utf8))),
        JournalEntry(key: TaskKey(kind: 0, path: [1]), outcome: .failed, message: "worker died 2 time(s): SIGSEGV", evidence: nil),
        JournalEntry(key: TaskKey(kind: 1, path: [2, 0, 7]), outcome: .done, message: "",
                     evidence: ReplayEvidence(status: .old(competence: Array("held:42".utf8)), worker: "chaos:1:3",
                                              feedback: [Array("fb1".utf8), []], response: [], pinnedFollowUps: 3..<5)),
        JournalEntry(key: TaskKey(kind: 0, path: [3]), outcome: .expired, message: "expired after 2 attempt(s)",
                     evidence: ReplayEvidence(status: .fresh, worker: "chaos:0:9", feedback: [], response: [0, 255, 10])),
    ]

    /// The header and every entry, and the offsets where each record ends.
    static func journalBytes() -> (bytes: [UInt8], ends: [Int]) {
        var bytes = JournalCodec.record(header: header)
        var ends = [bytes.count]
        for entry in entries {
            bytes += JournalCodec.record(entry: entry)
            ends.append(bytes.count)
        }
        return (bytes, ends)
    }

    @Test("records read back as written")
    func roundTrip() throws {
        let contents = try JournalReader.decode(Self.journalBytes().bytes, path: "j")
        #expect(contents.header == Self.header)
        #expect(contents.entries == Self.entries)
        #expect(!contents.droppedTornRecord)
    }

    @Test("checkpoint records read back in order, by kind, among task ends; cut at any byte, only whole ones count; a version 1 journal still reads")
    func checkpoints() throws {
        let checkpoints = [JournalCheckpoint(kind: 0, state: Array("first".utf8)), JournalCheckpoint(kind: 1, state: []),
                           JournalCheckpoint(kind: 0, state: [0, 255, 3])]
        var bytes = JournalCodec.record(header: Self.header)
        var ends = [bytes.count]
        for (entry, checkpoint) in zip(Self.entries, checkpoints) {
            bytes += JournalCodec.record(entry: entry)
            ends.append(bytes.count)
            bytes += JournalCodec.record(checkpoint: checkpoint)
            ends.append(bytes.count)
        }
        let contents = try JournalReader.decode(bytes, path: "j")
        #expect(contents.entries == Array(Self.entries.prefix(3)))
        #expect(contents.checkpoints == [0: [Array("first".utf8), [0, 255, 3]], 1: [[]]])
        #expect(contents.checkpointRecords == 3)
        for cut in ends[0]..<bytes.count {
            let kept = try JournalReader.decode(Array(bytes[0..<cut]), path: "j")
            let whole = ends.filter { $0 <= cut }.count - 1
            #expect(kept.checkpointRecords == whole / 2, "cut at \(cut)")
            #expect(kept.entries.count == (whole + 1) / 2, "cut at \(cut)")
        }
        // Format 1 had no checkpoints: its journals resume as ever.
        var old = Self.header
        old.version = 1
        let v1 = JournalCodec.record(header: old) + JournalCodec.record(entry: Self.entries[0])
        #expect(try JournalReader.decode(v1, path: "j").entries == [Self.entries[0]])
    }

    @Test("a journal cut at any byte keeps exactly its whole records")
    func truncatedAtEveryOffset() throws {
        let (bytes, ends) = Self.journalBytes()
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[0..<cut])
            if cut < ends[0] {
                #expect(throws: JournalError.truncatedHeader("j", size: cut)) { try JournalReader.decode(prefix, path: "j") }
                continue
            }
            let contents = try JournalReader.decode(prefix, path: "j")
            let whole = ends.filter { $0 <= cut }
            #expect(contents.entries == Array(Self.entries.prefix(whole.count - 1)), "cut at \(cut)")
            #expect(contents.validLength == whole.last!, "cut at \(cut)")
            #expect(contents.droppedTornRecord == !ends.contains(cut), "cut at \(cut)")
        }
    }

    @Test("a damaged last record is torn; a damaged earlier one is corruption")
    func damagedRecords() throws {
        let (bytes, ends) = Self.journalBytes()
        // Every byte of the last record's checksum and body (a damaged length field is read as a
        // torn record when it grows, and as damage when it shrinks: never as a record).
        for offset in (ends[ends.count - 2] + 4)..<bytes.count {
            var damaged = bytes
            damaged[offset] ^= 0x40
            let contents = try JournalReader.decode(damaged, path: "j")
            #expect(contents.entries == Array(Self.entries.dropLast()), "byte \(offset)")
            #expect(contents.validLength == ends[ends.count - 2])
        }
        var damaged = bytes
        damaged[ends[1] + 12] ^= 1  // Inside the second entry, with two whole records after it.
        #expect(throws: JournalError.corrupted("j", offset: ends[1], record: 2)) { try JournalReader.decode(damaged, path: "j") }
    }

    @Test("a zeroed tail (a file system's after a crash) is dropped like a torn record")
    func zeroedTail() throws {
        let (bytes, ends) = Self.journalBytes()
        for zeros in [1, 8, 9, 100] {
            let contents = try JournalReader.decode(bytes + [UInt8](repeating: 0, count: zeros), path: "j")
            #expect(contents.entries == Self.entries)
            #expect(contents.validLength == ends.last!)
            #expect(contents.droppedTornRecord)
        }
        var middle = bytes
        middle.replaceSubrange(ends[1]..<ends[2], with: [UInt8](repeating: 0, count: ends[2] - ends[1]))
        #expect(throws: JournalError.corrupted("j", offset: ends[1], record: 2)) { try JournalReader.decode(middle, path: "j") }
    }

    @Test("a file that is no journal, or of another format version, is refused")
    func notAJournal() throws {
        #expect(throws: JournalError.notAJournal("j")) { try JournalReader.decode(Array("hello world, this is text\n".utf8), path: "j") }
        var other = Self.header
        other.version = 9
        #expect(throws: JournalError.unsupportedVersion("j", 9)) {
            try JournalReader.decode(JournalCodec.record(header: other), path: "j")
        }
    }

    @Test("the ledger replays a pinned task only with all its follow-ups, and failures unless rerun")
    func ledger() {
        func done(_ path: [UInt64], pinned: Range<UInt64> = 0..<0) -> JournalEntry {
            JournalEntry(key: TaskKey(kind: 0, path: path), outcome: .done, message: nil,
                         evidence: ReplayEvidence(status: .fresh, worker: "w", feedback: [], response: [], pinnedFollowUps: pinned))
        }
        let failed = JournalEntry(key: TaskKey(kind: 0, path: [9]), outcome: .failed, message: "x", evidence: nil)
        let inMaster = JournalEntry(key: TaskKey(kind: 0, path: [8]), outcome: .done, message: "ran in master", evidence: nil)
        let journaled = [done([0], pinned: 0..<2), done([0, 0]), done([0, 1]),  // Whole tree: replayed.
                         done([1], pinned: 0..<2), done([1, 0]),  // Follow-up [1, 1] never ended: all of [1] runs.
                         failed, inMaster]
        let ledger = ResumeLedger(journaled, rerunsFailed: false)
        for path: [UInt64] in [[0], [0, 0], [0, 1], [9]] { #expect(ledger.take(TaskKey(kind: 0, path: path)) != nil, "\(path)") }
        for path: [UInt64] in [[1], [1, 0], [1, 1], [8], [7]] { #expect(ledger.take(TaskKey(kind: 0, path: path)) == nil, "\(path)") }
        #expect(ledger.replayed == 4)
        #expect(ResumeLedger(journaled, rerunsFailed: true).take(failed.key) == nil)
    }
}
