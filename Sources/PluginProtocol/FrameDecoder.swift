#if canImport(Glibc)
import Glibc
#endif

/// Incremental frame decoder: feed it bytes as they arrive, take whole frames out.
///
/// It never traps on any input: malformed bytes yield a ``FrameError`` and the decoder stays in
/// that failed state (a stream that lost sync cannot be trusted again).
public struct FrameDecoder: Sendable {
    /// Received bytes not decoded yet are `buffer[start..<end]`. The storage past `end` stays
    /// allocated and initialized for the next bytes, so starting over costs nothing.
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    private var failure: FrameError?
    /// The largest payload accepted.
    public let maximumPayload: Int

    /// Creates a decoder refusing payloads larger than `maximumPayload` bytes.
    public init(maximumPayload: Int = Frame.defaultMaximumPayload) {
        self.maximumPayload = maximumPayload
    }

    /// Bytes received but not yet decoded into a frame.
    public var bufferedByteCount: Int { end - start }

    /// Appends received bytes.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compactIfUseful()
        buffer.removeSubrange(end...)
        buffer.append(contentsOf: bytes)
        end = buffer.count
    }

    /// Appends received bytes from raw memory.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        let _: Result<Int, Never> = fill(atMost: bytes.count) { room in
            room.copyMemory(from: bytes)
            return .success(bytes.count)
        }
    }

    /// Lets `read` write up to `maximum` bytes straight after the buffered ones (a `read(2)`
    /// into the decoder, with no copy in between) and keeps as many as it reports.
    public mutating func fill<Failure: Error>(atMost maximum: Int,
                                              _ read: (UnsafeMutableRawBufferPointer) -> Result<Int, Failure>)
        -> Result<Int, Failure> {
        compactIfUseful()
        if buffer.count - end < maximum { grow(toFit: end + maximum) }
        let end = self.end
        let result = buffer.withUnsafeMutableBytes { bytes in
            read(UnsafeMutableRawBufferPointer(rebasing: bytes[end..<(end + maximum)]))
        }
        if case .success(let count) = result { self.end += min(max(count, 0), maximum) }
        return result
    }

    /// Returns the next whole frame, `nil` if more bytes are needed, or throws if the bytes are
    /// not a valid frame.
    public mutating func next() throws(FrameError) -> Frame? {
        guard let frame = try nextReceived() else { return nil }
        return Frame(type: frame.type, id: frame.id, payload: Array(frame.payload))
    }

    /// Like ``next()``, but the payload is a slice of the decoder's buffer rather than a copy.
    /// Let the frame go before feeding more bytes, or the feed copies the buffer.
    public mutating func nextReceived() throws(FrameError) -> ReceivedFrame? {
        if let failure { throw failure }
        let available = end - start
        guard available >= Frame.headerSize else { return nil }
        let header = try parseHeader(at: start)
        let total = Frame.headerSize + header.length
        guard available >= total else { return nil }
        let payloadStart = start + Frame.headerSize
        start += total
        return ReceivedFrame(type: header.type, id: header.id, payload: buffer[payloadStart..<(payloadStart + header.length)])
    }

    /// Checks that the stream ended on a frame boundary.
    public func finish() throws(FrameError) {
        if let failure { throw failure }
        if end - start > 0 { throw .truncated }
    }

    private mutating func parseHeader(at offset: Int) throws(FrameError) -> (type: FrameType, length: Int, id: UInt64) {
        let length = Int(buffer[offset]) | Int(buffer[offset + 1]) << 8 | Int(buffer[offset + 2]) << 16
            | Int(buffer[offset + 3]) << 24
        let rawType = buffer[offset + 4]
        let problem: FrameError?
        if buffer[offset + 5] != Frame.magic || buffer[offset + 6] != 0 || buffer[offset + 7] != 0 {
            problem = .badHeader
        } else if FrameType(rawValue: rawType) == nil {
            problem = .unknownType(rawType)
        } else if length > maximumPayload {
            problem = .tooLarge(length: length, limit: maximumPayload)
        } else {
            problem = nil
        }
        if let problem {
            failure = problem
            throw problem
        }
        // (The caller checked that the whole header is buffered.)
        let id = buffer.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)) }
        return (FrameType(rawValue: rawType)!, length, id)
    }

    /// Replaces the storage by one of at least `size` bytes (and at least twice the old size),
    /// keeping the buffered bytes. (Copy and zeroing in bulk: a byte loop would crawl in debug
    /// builds, where every fresh worker grows its buffer once.)
    private mutating func grow(toFit size: Int) {
        let newSize = max(size, buffer.count * 2)
        let kept = end
        let old = buffer
        buffer = [UInt8](unsafeUninitializedCapacity: newSize) { storage, initialized in
            let raw = UnsafeMutableRawBufferPointer(storage)
            old.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<kept])) }
            memset(raw.baseAddress! + kept, 0, newSize - kept)
            initialized = newSize
        }
    }

    private mutating func compactIfUseful() {
        if start == end {
            // Every byte decoded (the usual case): start over at the front of the same storage.
            start = 0
            end = 0
        } else if start > 0 && start >= end / 2 {
            buffer.removeSubrange(0..<start)
            end -= start
            start = 0
        }
    }
}
