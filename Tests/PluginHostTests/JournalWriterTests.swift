// The journal's synced-through markers (review 3a): the syncer syncs the outputs, then writes
// "outputs synced through record n" for the records written before that sync began, then syncs
// the journal; after a reboot a resume trusts only checkpoints before the last marker (or written
// in this boot). The sync is driven by the test (the writer's own thread waits an hour), and the
// outputs' sync is a hook that appends a checkpoint while it runs, as the scheduler may.
@testable import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Journal writer")
struct JournalWriterTests {
    final class Hook: @unchecked Sendable {
        var writer: JournalWriter?
        var calls = 0
        var result: Int32 = 0
    }

    static let first = JournalCheckpoint(kind: 0, state: Array("first".utf8))
    static let during = JournalCheckpoint(kind: 0, state: Array("during".utf8))

    /// A journal with one checkpoint, then one sync whose output sync appends another.
    static func syncOnce(outputSync result: Int32, in directory: TemporaryDirectory) throws -> (marked: Int?, contents: JournalContents) {
        let path = directory.file("journal")
        let output = open(directory.write("out", "output"), O_RDONLY | O_CLOEXEC)
        defer { close(output) }
        let hook = Hook()
        hook.result = result
        let writer = try JournalWriter.create(path: path, header: JournalHeader(identity: []), boot: "boot-a", interval: 3600) { _ in
            hook.calls += 1
            hook.writer?.append(checkpoint: JournalWriterTests.during)
            return hook.result
        }
        hook.writer = writer
        writer.syncBefore(output)
        writer.append(checkpoint: first)
        let marked = writer.sync()
        writer.close()
        #expect(hook.calls == 1)
        return (marked, try JournalReader.read(path: path))
    }

    @Test("the marker follows the outputs' sync and covers only the records written before it began")
    func markerAfterOutputSync() throws {
        let directory = TemporaryDirectory()
        let (marked, contents) = try Self.syncOnce(outputSync: 0, in: directory)
        // Records: 0 header, 1 segment, 2 first, 3 during (appended while the outputs synced), 4 marker.
        #expect(contents.segments.map(\.boot) == ["boot-a"])
        #expect(contents.checkpointRecordNumbers[0] == [2, 3])
        #expect(marked == 3)
        #expect(contents.outputsSyncedThrough == 3)
        #expect(contents.records == 5)
        // Same boot: every checkpoint; after a reboot: only the one synced before.
        #expect(contents.trustedCheckpoints(kind: 0, boot: "boot-a") == [Self.first.state, Self.during.state])
        #expect(contents.trustedCheckpoints(kind: 0, boot: "boot-b") == [Self.first.state])
    }

    @Test("an output that cannot be synced gets no marker: after a reboot no checkpoint counts")
    func noMarkerAfterFailedSync() throws {
        let directory = TemporaryDirectory()
        let (marked, contents) = try Self.syncOnce(outputSync: -1, in: directory)
        #expect(marked == nil)
        #expect(contents.outputsSyncedThrough == 0)
        #expect(contents.trustedCheckpoints(kind: 0, boot: "boot-b").isEmpty)
        #expect(contents.trustedCheckpoints(kind: 0, boot: "boot-a").count == 2)
    }

    @Test("a resume appends a segment; checkpoints of segments written in this boot count after a reboot, the old boot's unsynced ones do not")
    func segments() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("journal")
        let writer = try JournalWriter.create(path: path, header: JournalHeader(identity: []), boot: "boot-a", interval: 3600)
        writer.append(checkpoint: Self.first)
        writer.close()
        let resumed = try JournalWriter.resume(path: path, contents: try JournalReader.read(path: path), boot: "boot-b")
        resumed.append(checkpoint: Self.during)
        resumed.close()
        let contents = try JournalReader.read(path: path)
        #expect(contents.segments.map(\.boot) == ["boot-a", "boot-b"])
        #expect(contents.segments.map(\.record) == [1, 3])
        #expect(contents.trustedCheckpoints(kind: 0, boot: "boot-b") == [Self.during.state])
        #expect(contents.trustedCheckpoints(kind: 0, boot: "boot-c").isEmpty)
        // A boot the kernel did not tell is never the same boot.
        let unknown = try JournalWriter.create(path: directory.file("unknown"), header: JournalHeader(identity: []), boot: BootID.unknown)
        unknown.append(checkpoint: Self.first)
        unknown.close()
        #expect(try JournalReader.read(path: directory.file("unknown")).trustedCheckpoints(kind: 0, boot: BootID.unknown).isEmpty)
        // Cut at any byte, the journal reads back (a torn last record dropped), never misread.
        let bytes = ProcessProbe.readFile(path) ?? []
        for cut in 0..<bytes.count {
            guard let kept = try? JournalReader.decode(Array(bytes[0..<cut]), path: "j") else { continue }
            #expect(kept.segments.count <= 2 && kept.checkpointRecords <= 2, "cut at \(cut)")
        }
    }
}
