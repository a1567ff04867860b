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
/// ``JournalReader``). Checkpoints ("ph.checkpoint/1") are written as they come too, so a killed
/// master loses none. Each run segment (the first run, each resume) starts with the boot id it is
/// written in; each sync first syncs the outputs the checkpoints speak of (``syncBefore(_:)``),
/// then appends "outputs synced through record n" (n: the records written before the outputs'
/// sync began), then syncs the journal. A checkpoint appended during the outputs' sync is made
/// durable by the journal's sync while its output may not be: after a reboot a resume trusts only
/// checkpoints before the last such marker (see ``JournalContents/trustedCheckpoints(kind:boot:)``).
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
    /// Whole records in the file, the header included (guarded by `state`; counted after their
    /// `write` returned, so the first `records` records of the file are all written).
    private var records: Int
    /// The last synced-through count written (guarded by `state`).
    private var syncedThrough: Int
    /// A resumed format 3 journal's segment record, written before this run's first record
    /// (under the scheduler's lock).
    private var pendingSegment: [UInt8]?
    private let interval: Double
    /// Makes an output durable (`fdatasync`; tests put a hook here). 0 on success.
    let syncOutput: @Sendable (Int32) -> Int32

    private init(path: String, descriptor: FileDescriptor, records: Int, syncedThrough: Int, interval: Double,
                 syncOutput: @escaping @Sendable (Int32) -> Int32) {
        self.path = path
        self.descriptor = descriptor
        self.records = records
        self.syncedThrough = syncedThrough
        self.interval = interval
        self.syncOutput = syncOutput
    }

    /// Creates a new journal at `path` (refused if the file exists) and writes its header.
    static func create(path: String, header: JournalHeader, boot: String = BootID.current, interval: Double = syncInterval,
                       syncOutput: @escaping @Sendable (Int32) -> Int32 = { fdatasync($0) }) throws(JournalError) -> JournalWriter {
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
        let writer = JournalWriter(path: path, descriptor: descriptor, records: 0, syncedThrough: 0, interval: interval,
                                   syncOutput: syncOutput)
        writer.write(JournalCodec.record(header: header))
        if header.version >= 3 { writer.write(JournalCodec.record(segmentBoot: boot)) }
        writer.records = header.version >= 3 ? 2 : 1
        if let failure = writer.failure {
            try? descriptor.close()
            throw .notWritable(path, Errno(rawValue: Int32(failure) ?? EIO))
        }
        _ = fdatasync(descriptor.rawValue)  // The header at least is durable before any task runs.
        return writer
    }

    /// Opens the journal `contents` came from to append to it, dropping a torn last record first.
    static func resume(path: String, contents: JournalContents, boot: String = BootID.current) throws(JournalError) -> JournalWriter {
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
        let writer = JournalWriter(path: path, descriptor: descriptor, records: contents.records,
                                   syncedThrough: contents.outputsSyncedThrough, interval: syncInterval, syncOutput: { fdatasync($0) })
        // The segment starts with the first record this run appends: a resume that appends
        // nothing (a finished run's) leaves the journal as it was.
        if contents.header.version >= 3 { writer.pendingSegment = JournalCodec.record(segmentBoot: boot) }
        return writer
    }

    /// Appends one task end (one `write`).
    func append(_ entry: JournalEntry) {
        guard failure == nil else { return }
        guard startSegment(), write(JournalCodec.record(entry: entry)) else { return }
        appended += 1
        wrote()
    }

    /// Appends a checkpointed kind's checkpoint (one `write`).
    func append(checkpoint: JournalCheckpoint) {
        guard failure == nil else { return }
        guard startSegment(), write(JournalCodec.record(checkpoint: checkpoint)) else { return }
        wrote()
    }

    /// Writes the pending segment record, if any; false if it could not be written.
    private func startSegment() -> Bool {
        guard let segment = pendingSegment else { return true }
        pendingSegment = nil
        guard write(segment) else { return false }
        state.withLock { records += 1 }
        return true
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
            records += 1
            if syncerRunning || closed { return false }
            syncerRunning = true
            return true
        }
        if startSyncer { startThread { [self] in syncLoop() } }
    }

    @discardableResult
    private func write(_ record: [UInt8]) -> Bool {
        do {
            _ = try descriptor.writeAll(record)
            return true
        } catch {
            failure = failure ?? "\(path): cannot write the journal: \((error as? Errno)?.description ?? "\(error)")"
            return false
        }
    }

    /// Syncs while records come, every ``syncInterval`` seconds; ends when the journal closes.
    private func syncLoop() {
        state.lock()
        while !closed {
            state.wait(untilNanoseconds: monotonicNanoseconds() &+ nanoseconds(fromSeconds: interval))
            if closed { break }
            if dirty {
                dirty = false
                state.unlock()
                sync()
                state.lock()
            }
        }
        syncerRunning = false
        state.broadcast()
        state.unlock()
    }

    /// One sync (called by the syncing thread, or a test; not under `state`): the outputs, then
    /// a synced-through marker for the records written before they were synced (when there are
    /// outputs, all synced, and new records), then the journal. Returns the marker's count, nil
    /// if none was written.
    @discardableResult
    func sync() -> Int? {
        let (outputs, through, previous) = state.withLock { (syncedFirst, records, syncedThrough) }
        var allSynced = true
        for output in outputs where syncOutput(output) != 0 { allSynced = false }
        var marked: Int?
        if !outputs.isEmpty, allSynced, through > previous {
            state.withLock {
                // Under `state`, so that the count stays the records' count; one `write` (the
                // scheduler's appends go on: O_APPEND places each whole).
                if (try? descriptor.writeAll(JournalCodec.record(syncedThrough: through))) != nil {
                    records += 1
                    syncedThrough = through
                    marked = through
                }
            }
        }
        _ = fdatasync(descriptor.rawValue)
        return marked
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
