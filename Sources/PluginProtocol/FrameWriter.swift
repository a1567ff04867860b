/// Writes frames to a file descriptor, reusing one buffer so the hot path does not allocate.
///
/// Frames can be written one at a time (`write`), or queued (`queue`) and written together by
/// ``flush()`` with as few system calls as the pipe allows.
public struct FrameWriter {
    /// The descriptor written to (not owned: the caller closes it).
    public let descriptor: Descriptor
    private var buffer: [UInt8] = []

    /// A buffer that grew past this many bytes (a large payload) is released after its write.
    private static let retainedCapacity = 1 << 20

    /// Creates a writer to `descriptor`.
    public init(descriptor: Descriptor) {
        self.descriptor = descriptor
        buffer.reserveCapacity(4096)
    }

    /// True when no frame is queued.
    public var isEmpty: Bool { buffer.isEmpty }

    /// Queues one frame whose payload is a byte array; nothing is written before ``flush()``.
    public mutating func queue(type: FrameType, id: UInt64, payload: [UInt8]) {
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// Writes every queued frame, in order, and empties the queue (also when the write fails).
    /// Throws `SystemError` when the peer is gone.
    public mutating func flush() throws(SystemError) {
        guard !buffer.isEmpty else { return }
        let failure = buffer.withUnsafeBytes { descriptor.writeAllResult($0) }
        if buffer.capacity > Self.retainedCapacity {
            buffer = []
            buffer.reserveCapacity(4096)
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
        if let failure { throw failure }
    }

    /// Writes one frame (after any queued ones) whose payload is given as raw bytes. Throws
    /// `SystemError` when the peer is gone.
    public mutating func write(type: FrameType, id: UInt64, payload: UnsafeRawBufferPointer) throws(SystemError) {
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        payload.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
        try flush()
    }

    /// Writes one frame (after any queued ones) whose payload is a byte array. Throws
    /// `SystemError` when the peer is gone.
    public mutating func write(type: FrameType, id: UInt64, payload: [UInt8]) throws(SystemError) {
        queue(type: type, id: id, payload: payload)
        try flush()
    }

    /// Writes one frame (after any queued ones). Throws `SystemError` when the peer is gone.
    public mutating func write(_ frame: Frame) throws(SystemError) {
        frame.encode(into: &buffer)
        try flush()
    }
}
