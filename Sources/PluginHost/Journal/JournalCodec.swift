/// The journal's byte format. A file is a sequence of records, each
/// `u32 length | u32 crc32c(body) | body` (little-endian), the first a header:
///
///     header body: u8 1 | "PHJOURNAL" | u16 version | u32 n | n × (string name, string value)
///     end body:    u8 2 | u16 kind | u32 depth | depth × u64 path | u8 outcome | message | u8 has evidence
///                  [ u8 is old | bytes competence | string worker | u32 n | n × bytes feedback | bytes response | u64 first, u64 end pinned follow-ups ]
///     checkpoint body (version 2): u8 3 | u16 kind | the kind's bytes (to the end of the body)
///     segment body (version 3):    u8 4 | string boot id (a run or resume starts writing in this boot)
///     synced body (version 3):     u8 5 | u64 n (the outputs were synced after records 0..<n were written)
///     string, bytes: u32 length | data;  message: u32 0xFFFF_FFFF for none, else a string
///
/// A record is written with one `write`, so a master killed mid-write leaves at most one torn
/// record, last: its length runs past the end, or its checksum fails.
enum JournalCodec {
    static let magic = Array("PHJOURNAL".utf8)
    static let headerType: UInt8 = 1
    static let endType: UInt8 = 2
    static let checkpointType: UInt8 = 3
    static let segmentType: UInt8 = 4
    static let syncedType: UInt8 = 5
    /// Bytes before a record's body.
    static let framing = 8
    /// No record is longer (a response is at most a frame's 64 MiB, plus feedback).
    static let maximumBody = 1 << 30

    static func record(header: JournalHeader) -> [UInt8] {
        var body = startRecord(capacity: 256)
        body.append(headerType)
        body += magic
        put(&body, header.version)
        put(&body, UInt32(header.identity.count))
        for field in header.identity {
            putBytes(&body, Array(field.name.utf8))
            putBytes(&body, Array(field.value.utf8))
        }
        finishRecord(&body)
        return body
    }

    static func record(entry: JournalEntry) -> [UInt8] {
        let evidenceBytes = entry.evidence.map { $0.response.count + $0.feedback.reduce(0) { $0 + $1.count + 4 } } ?? 0
        var body = startRecord(capacity: 128 + (entry.message?.utf8.count ?? 0) + evidenceBytes)
        body.append(endType)
        put(&body, entry.key.kind)
        put(&body, UInt32(entry.key.path.count))
        for step in entry.key.path { put(&body, step) }
        body.append(UInt8(TaskOutcome.allCases.firstIndex(of: entry.outcome)!))
        if let message = entry.message { putBytes(&body, Array(message.utf8)) } else { put(&body, UInt32.max) }
        guard let evidence = entry.evidence else {
            body.append(0)
            finishRecord(&body)
            return body
        }
        body.append(1)
        switch evidence.status {
        case .fresh:
            body.append(0)
            put(&body, UInt32(0))
        case .old(let competence):
            body.append(1)
            putBytes(&body, competence)
        }
        putBytes(&body, Array(evidence.worker.utf8))
        put(&body, UInt32(evidence.feedback.count))
        for message in evidence.feedback { putBytes(&body, message) }
        putBytes(&body, evidence.response)
        put(&body, evidence.pinnedFollowUps.lowerBound)
        put(&body, evidence.pinnedFollowUps.upperBound)
        finishRecord(&body)
        return body
    }

    static func record(checkpoint: JournalCheckpoint) -> [UInt8] {
        var body = startRecord(capacity: 3 + checkpoint.state.count)
        body.append(checkpointType)
        put(&body, checkpoint.kind)
        body += checkpoint.state
        finishRecord(&body)
        return body
    }

    static func record(segmentBoot boot: String) -> [UInt8] {
        var body = startRecord(capacity: 5 + boot.utf8.count)
        body.append(segmentType)
        putBytes(&body, Array(boot.utf8))
        finishRecord(&body)
        return body
    }

    static func record(syncedThrough records: Int) -> [UInt8] {
        var body = startRecord(capacity: 9)
        body.append(syncedType)
        put(&body, UInt64(records))
        finishRecord(&body)
        return body
    }

    /// A record's buffer with room for its framing, filled in by ``finishRecord(_:)`` once the
    /// body follows it (one buffer, no copy of the body).
    private static func startRecord(capacity: Int) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: framing)
        record.reserveCapacity(framing + capacity)
        return record
    }

    private static func finishRecord(_ record: inout [UInt8]) {
        let length = UInt32(record.count - framing)
        let checksum = record.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[framing...])) }
        record.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: length.littleEndian, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: checksum.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }

    private static func put<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func putBytes(_ out: inout [UInt8], _ bytes: [UInt8]) {
        put(&out, UInt32(bytes.count))
        out += bytes
    }
}

/// Reads the fields of one record's body; every read checks the bounds (nil past the end).
struct JournalBodyReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var atEnd: Bool { position == bytes.endIndex }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.endIndex - position >= size else { return nil }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[position + index]) << (8 * index) }
        position += size
        return value
    }

    mutating func raw(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.endIndex - position >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func byteString() -> [UInt8]? {
        guard let count = integer(UInt32.self) else { return nil }
        return raw(Int(count))
    }

    mutating func string() -> String? { byteString().map { String(decoding: $0, as: UTF8.self) } }
}

extension JournalCodec {
    /// Decodes a header body; nil if it is not one.
    static func header(_ body: ArraySlice<UInt8>) -> JournalHeader? {
        var reader = JournalBodyReader(body)
        guard reader.integer(UInt8.self) == headerType, reader.raw(magic.count) == magic,
              let version = reader.integer(UInt16.self), let count = reader.integer(UInt32.self) else { return nil }
        var identity: [(name: String, value: String)] = []
        for _ in 0..<count {
            guard let name = reader.string(), let value = reader.string() else { return nil }
            identity.append((name, value))
        }
        return reader.atEnd ? JournalHeader(version: version, identity: identity) : nil
    }

    /// Decodes a checkpoint body; nil if it is not one.
    static func checkpoint(_ body: ArraySlice<UInt8>) -> JournalCheckpoint? {
        var reader = JournalBodyReader(body)
        guard reader.integer(UInt8.self) == checkpointType, let kind = reader.integer(UInt16.self) else { return nil }
        return JournalCheckpoint(kind: kind, state: Array(body[reader.position...]))
    }

    /// Decodes a segment body (the boot id it was written in); nil if it is not one.
    static func segmentBoot(_ body: ArraySlice<UInt8>) -> String? {
        var reader = JournalBodyReader(body)
        guard reader.integer(UInt8.self) == segmentType, let boot = reader.string(), reader.atEnd else { return nil }
        return boot
    }

    /// Decodes a synced-through body (records before it whose outputs were synced); nil if it is not one.
    static func syncedThrough(_ body: ArraySlice<UInt8>) -> Int? {
        var reader = JournalBodyReader(body)
        guard reader.integer(UInt8.self) == syncedType, let records = reader.integer(UInt64.self), reader.atEnd,
              records <= UInt64(Int.max) else { return nil }
        return Int(records)
    }

    /// Decodes a task-end body; nil if it is malformed.
    static func entry(_ body: ArraySlice<UInt8>) -> JournalEntry? {
        var reader = JournalBodyReader(body)
        guard reader.integer(UInt8.self) == endType, let kind = reader.integer(UInt16.self),
              let depth = reader.integer(UInt32.self), depth > 0, Int(depth) <= body.count / 8 else { return nil }
        var path: [UInt64] = []
        path.reserveCapacity(Int(depth))
        for _ in 0..<depth {
            guard let step = reader.integer(UInt64.self) else { return nil }
            path.append(step)
        }
        guard let outcomeIndex = reader.integer(UInt8.self), Int(outcomeIndex) < TaskOutcome.allCases.count,
              let messageLength = reader.integer(UInt32.self) else { return nil }
        var message: String?
        if messageLength != UInt32.max {
            guard let text = reader.raw(Int(messageLength)) else { return nil }
            message = String(decoding: text, as: UTF8.self)
        }
        var entry = JournalEntry(key: TaskKey(kind: kind, path: path), outcome: TaskOutcome.allCases[Int(outcomeIndex)],
                                 message: message, evidence: nil)
        guard let hasEvidence = reader.integer(UInt8.self) else { return nil }
        if hasEvidence == 1 {
            guard let isOld = reader.integer(UInt8.self), isOld <= 1, let competence = reader.byteString(),
                  let worker = reader.string(), let feedbackCount = reader.integer(UInt32.self),
                  Int(feedbackCount) <= body.count / 4 else { return nil }
            var feedback: [[UInt8]] = []
            for _ in 0..<feedbackCount {
                guard let message = reader.byteString() else { return nil }
                feedback.append(message)
            }
            guard let response = reader.byteString(), let first = reader.integer(UInt64.self),
                  let end = reader.integer(UInt64.self), first <= end else { return nil }
            entry.evidence = ReplayEvidence(status: isOld == 1 ? .old(competence: competence) : .fresh, worker: worker,
                                            feedback: feedback, response: response, pinnedFollowUps: first..<end)
        } else if hasEvidence != 0 {
            return nil
        }
        return reader.atEnd ? entry : nil
    }
}
