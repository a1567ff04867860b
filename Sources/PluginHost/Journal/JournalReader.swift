import SystemPackage

/// A journal as read back: its header, its task ends in order, and how many of its bytes are
/// whole records (a torn last record, from a master killed while writing it, is left out).
struct JournalContents: Sendable {
    var header: JournalHeader
    var entries: [JournalEntry]
    /// Each checkpointed kind's checkpoints, oldest first, by kind position.
    var checkpoints: [UInt16: [[UInt8]]] = [:]
    /// Checkpoint records read.
    var checkpointRecords: Int { checkpoints.values.reduce(0) { $0 + $1.count } }
    /// Each checkpoint's record number (the header is 0), parallel to ``checkpoints``.
    var checkpointRecordNumbers: [UInt16: [Int]] = [:]
    /// Format 3: the boot each run segment (the first run, each resume) was written in, by the
    /// record number it starts at.
    var segments: [(record: Int, boot: String)] = []
    /// Format 3: the last synced-through record's count: the outputs were synced after records
    /// 0..<n had been written (0: never).
    var outputsSyncedThrough = 0
    /// Whole records read (the number the next one appended gets).
    var records = 0
    /// Bytes of whole records; a resumed run truncates the file here before appending.
    var validLength: Int
    /// True when a torn last record was dropped.
    var droppedTornRecord: Bool
}

extension JournalContents {
    /// The checkpoints of kind `kind` a resume in boot `boot` may trust, oldest first. A
    /// checkpoint was written to the journal at once, its output maybe not yet to the disk: a
    /// killed process loses neither (the page cache stays), but an operating system crash or power
    /// loss may lose the output. So after a reboot (`boot` is not the boot a segment was written
    /// in) only checkpoints the outputs were synced after count, and those of segments written in
    /// this boot (a resume since the reboot started from a synced one). A journal without
    /// segments (format 2) trusts all, as it was written.
    func trustedCheckpoints(kind: UInt16, boot: String) -> [[UInt8]] {
        let all = checkpoints[kind] ?? []
        guard !segments.isEmpty else { return all }
        let thisBoot = segments.first { $0.boot == boot && boot != BootID.unknown }?.record ?? Int.max
        let numbers = checkpointRecordNumbers[kind] ?? []
        return zip(all, numbers).filter { $0.1 < outputsSyncedThrough || $0.1 >= thisBoot }.map(\.0)
    }
}

/// Reads a journal file (see ``JournalCodec`` for the format).
enum JournalReader {
    /// Reads the journal at `path`.
    static func read(path: String) throws(JournalError) -> JournalContents {
        let bytes: [UInt8]
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .readOnly)
            defer { try? descriptor.close() }
            bytes = try readAll(descriptor)
        } catch Errno.noSuchFileOrDirectory {
            throw .missing(path)
        } catch let error as Errno {
            throw .unreadable(path, error)
        } catch {
            throw .unreadable(path, .ioError)
        }
        return try decode(bytes, path: path)
    }

    /// Decodes a whole journal file's bytes.
    static func decode(_ bytes: [UInt8], path: String) throws(JournalError) -> JournalContents {
        var offset = 0
        var records = 0
        var header: JournalHeader?
        var entries: [JournalEntry] = []
        var checkpoints: [UInt16: [[UInt8]]] = [:]
        var checkpointRecordNumbers: [UInt16: [Int]] = [:]
        var segments: [(record: Int, boot: String)] = []
        var syncedThrough = 0
        var torn = false
        while offset < bytes.count {
            // A record whose framing or body runs past the end was torn by a kill mid-write.
            guard bytes.count - offset >= JournalCodec.framing else { torn = true; break }
            let length = Int(le32(bytes, offset)), checksum = le32(bytes, offset + 4)
            let bodyStart = offset + JournalCodec.framing
            guard length <= JournalCodec.maximumBody, bytes.count - bodyStart >= length else {
                if length > JournalCodec.maximumBody && header == nil { throw .notAJournal(path) }
                torn = true
                break
            }
            let body = bytes[bodyStart..<bodyStart + length]
            let end = bodyStart + length
            let intact = body.withUnsafeBytes { CRC32C.checksum($0) } == checksum
            if !intact || (length == 0 && checksum == 0) {
                // The last record may be torn (its pages half written), or a tail the file
                // system zeroed after a crash; a bad record before the end is damage.
                if end == bytes.count || bytes[offset...].allSatisfy({ $0 == 0 }) { torn = true; break }
                if header == nil { throw .notAJournal(path) }
                throw .corrupted(path, offset: offset, record: records)
            }
            if header == nil {
                guard body.first == JournalCodec.headerType, body.count > JournalCodec.magic.count,
                      Array(body.dropFirst().prefix(JournalCodec.magic.count)) == JournalCodec.magic else {
                    throw .notAJournal(path)
                }
                guard let decoded = JournalCodec.header(body) else { throw .notAJournal(path) }
                guard JournalHeader.readableVersions.contains(decoded.version) else { throw .unsupportedVersion(path, decoded.version) }
                header = decoded
            } else if header!.version >= 2, body.first == JournalCodec.checkpointType {
                guard let checkpoint = JournalCodec.checkpoint(body) else { throw .corrupted(path, offset: offset, record: records) }
                checkpoints[checkpoint.kind, default: []].append(checkpoint.state)
                checkpointRecordNumbers[checkpoint.kind, default: []].append(records)
            } else if header!.version >= 3, body.first == JournalCodec.segmentType {
                guard let boot = JournalCodec.segmentBoot(body) else { throw .corrupted(path, offset: offset, record: records) }
                segments.append((records, boot))
            } else if header!.version >= 3, body.first == JournalCodec.syncedType {
                guard let through = JournalCodec.syncedThrough(body), through <= records else {
                    throw .corrupted(path, offset: offset, record: records)
                }
                syncedThrough = max(syncedThrough, through)
            } else {
                guard let entry = JournalCodec.entry(body) else { throw .corrupted(path, offset: offset, record: records) }
                entries.append(entry)
            }
            records += 1
            offset = end
        }
        guard let header else {
            if bytes.count >= JournalCodec.framing + 1 + JournalCodec.magic.count,
               Array(bytes[(JournalCodec.framing + 1)..<(JournalCodec.framing + 1 + JournalCodec.magic.count)]) != JournalCodec.magic {
                throw .notAJournal(path)
            }
            throw .truncatedHeader(path, size: bytes.count)
        }
        return JournalContents(header: header, entries: entries, checkpoints: checkpoints,
                               checkpointRecordNumbers: checkpointRecordNumbers, segments: segments,
                               outputsSyncedThrough: syncedThrough, records: records,
                               validLength: offset, droppedTornRecord: torn)
    }

    private static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private static func readAll(_ descriptor: FileDescriptor) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }
}
