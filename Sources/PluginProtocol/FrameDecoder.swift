/// Incremental frame decoder: feed it bytes as they arrive, take whole frames out.
///
/// It never traps on any input: malformed bytes yield a ``FrameError`` and the decoder stays in
/// that failed state (a stream that lost sync cannot be trusted again).
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: FrameError?
    /// The largest payload accepted.
    public let maximumPayload: Int

    /// Creates a decoder refusing payloads larger than `maximumPayload` bytes.
    public init(maximumPayload: Int = Frame.defaultMaximumPayload) {
        self.maximumPayload = maximumPayload
    }

    /// Bytes received but not yet decoded into a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends received bytes.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compactIfUseful()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes from raw memory.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compactIfUseful()
        bytes.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
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
        let available = buffer.count - start
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
        if buffer.count - start > 0 { throw .truncated }
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

    private mutating func compactIfUseful() {
        if start == buffer.count {
            // Every byte decoded (the usual case): start over in the same storage.
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
