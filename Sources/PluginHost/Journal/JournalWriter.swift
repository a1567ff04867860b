import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Appends records to a journal file.
///
/// Durability policy: each task end is written with one `write` as it happens (under the
/// scheduler's lock), so a master killed at any moment (`kill -9`, out of memory) loses no task
/// that ended: the kernel keeps what was written. `fdatasync` runs on a thread of its own every
/// ``syncInterval`` seconds while records come (never on the scheduler's threads), so an
/// operating system crash or power loss loses about the last second of task ends, which a resume
/// redoes. The end of the run does not wait for a last sync (the run's own outputs are not synced
/// either; a whole journal of ParMap's 10 million items took seconds to reach the disk). A
/// record torn by a crash, or a tail the file system left zeroed, is detected and dropped (see
/// ``JournalReader``). Checkpoints ("ph.checkpoint/1") are written as they come too; each sync
/// first syncs the outputs they speak of (``syncBefore(_:)``), so every checkpoint a sync made
/// durable claims durable output. One written after the last sync may, after an operating
/// system crash, claim output the disk lost: the kind's `resume` then refuses it, and the host
/// offers it the checkpoint before (see ``Scheduler/resumeCheckpointedLocked(_:contents:)``).
final class JournalWriter: @unchecked Sendable {
    /// Seconds between two `fdatasync`s of a journal being written.
    static let syncInterval = 1.0

    let path: String
    private let descriptor: FileDescriptor
    private let state = ConditionLock()
    /// Guarded by `state`.
    private var dirty = false
    private var closed = false
    private var syncerRunning = false
    /// Files synced before the journal (duplicates, closed with it).
    private var syncedFirst: [Int32] = []
    /// The first write error, reported once at the end of the run (written under the scheduler's lock).
    private(set) var failure: String?
    /// Records appended by this run (under the scheduler's lock).
    private(set) var appended = 0

    private init(path: String, descriptor: FileDescriptor) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Creates a new journal at `path` (refused if the file exists) and writes its header.
    static func create(path: String, header: JournalHeader) throws(JournalError) -> JournalWriter {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .append, .closeOnExec],
                                                 permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch Errno.fileExists {
            throw .exists(path)
        } catch let error as Errno {
            throw .notWritable(path, error)
        } catch {
            throw .notWritable(path, .ioError)
        }
        let writer = JournalWriter(path: path, descriptor: descriptor)
        writer.write(JournalCodec.record(header: header))
        if let failure = writer.failure {
            try? descriptor.close()
            throw .notWritable(path, Errno(rawValue: Int32(failure) ?? EIO))
        }
        _ = fdatasync(descriptor.rawValue)  // The header at least is durable before any task runs.
        return writer
    }

    /// Opens the journal `contents` came from to append to it, dropping a torn last record first.
    static func resume(path: String, contents: JournalContents) throws(JournalError) -> JournalWriter {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.append, .closeOnExec])
            if contents.droppedTornRecord {
                try descriptor.resize(to: Int64(contents.validLength), retryOnInterrupt: true)
            }
        } catch let error as Errno {
            throw .notWritable(path, error)
        } catch {
            throw .notWritable(path, .ioError)
        }
        return JournalWriter(path: path, descriptor: descriptor)
    }

    /// Appends one task end (one `write`).
    func append(_ entry: JournalEntry) {
        guard failure == nil else { return }
        write(JournalCodec.record(entry: entry))
        appended += 1
        wrote()
    }

    /// Appends a checkpointed kind's checkpoint (one `write`).
    func append(checkpoint: JournalCheckpoint) {
        guard failure == nil else { return }
        write(JournalCodec.record(checkpoint: checkpoint))
        wrote()
    }

    /// Makes a duplicate of `descriptor` durable before each sync of the journal (a kind's output
    /// its checkpoints speak of): a synced checkpoint never claims output the disk may lose.
    func syncBefore(_ descriptor: Int32) {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return }
        state.withLock { syncedFirst.append(copy) }
    }

    /// Marks the journal dirty and starts its syncing thread if it is not running.
    private func wrote() {
        let startSyncer: Bool = state.withLock {
            dirty = true
            if syncerRunning || closed { return false }
            syncerRunning = true
            return true
        }
        if startSyncer { startThread { [self] in syncLoop() } }
    }

    private func write(_ record: [UInt8]) {
        do {
            _ = try descriptor.writeAll(record)
        } catch {
            failure = failure ?? "\(path): cannot write the journal: \((error as? Errno)?.description ?? "\(error)")"
        }
    }

    /// Syncs while records come, every ``syncInterval`` seconds; ends when the journal closes.
    private func syncLoop() {
        state.lock()
        while !closed {
            state.wait(untilNanoseconds: monotonicNanoseconds() &+ nanoseconds(fromSeconds: Self.syncInterval))
            if closed { break }
            if dirty {
                dirty = false
                let outputs = syncedFirst
                state.unlock()
                for output in outputs { _ = fdatasync(output) }
                _ = fdatasync(descriptor.rawValue)
                state.lock()
            }
        }
        syncerRunning = false
        state.broadcast()
        state.unlock()
    }

    /// Closes the journal (once, at the end of the run), after the syncing thread left.
    func close() {
        state.withLock {
            closed = true
            state.broadcast()
            while syncerRunning { state.wait() }
            for output in syncedFirst { Glibc.close(output) }
            syncedFirst = []
        }
        try? descriptor.close()
    }
}
