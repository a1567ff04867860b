#if canImport(Glibc)
import Glibc
#endif

/// Where a checkpointed kind's checkpoints ("ph.checkpoint/1") go while a journal is open: one
/// journal record each, tagged with the kind's position in the run. Called from the kind's master
/// callbacks, so under the scheduler's lock, like every other journal append.
final class CheckpointSink {
    private let writer: JournalWriter
    private let kind: UInt16

    init(writer: JournalWriter, kind: UInt16) {
        self.writer = writer
        self.kind = kind
    }

    /// Journals the kind's checkpoint.
    func record(_ bytes: UnsafeRawBufferPointer) {
        writer.append(checkpoint: JournalCheckpoint(kind: kind, state: Array(bytes)))
    }

    /// Makes `descriptor` (a duplicate of it) durable before each sync of the journal.
    func syncWithJournal(_ descriptor: Int32) {
        writer.syncBefore(descriptor)
    }
}
