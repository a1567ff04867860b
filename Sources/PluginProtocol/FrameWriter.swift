/// Writes frames to a file descriptor, reusing one buffer so the hot path does not allocate.
public struct FrameWriter {
    /// The descriptor written to (not owned: the caller closes it).
    public let descriptor: Descriptor
    private var buffer: [UInt8] = []

    /// Creates a writer to `descriptor`.
    public init(descriptor: Descriptor) {
        self.descriptor = descriptor
        buffer.reserveCapacity(4096)
    }

    /// Writes one frame whose payload is given as raw bytes. Throws `SystemError` when the peer is gone.
    public mutating func write(type: FrameType, id: UInt64, payload: UnsafeRawBufferPointer) throws(SystemError) {
        buffer.removeAll(keepingCapacity: true)
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
        try flush()
    }

    /// Writes one frame whose payload is a byte array. Throws `SystemError` when the peer is gone.
    public mutating func write(type: FrameType, id: UInt64, payload: [UInt8]) throws(SystemError) {
        buffer.removeAll(keepingCapacity: true)
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
        try flush()
    }

    /// Writes one frame. Throws `SystemError` when the peer is gone.
    public mutating func write(_ frame: Frame) throws(SystemError) {
        buffer.removeAll(keepingCapacity: true)
        frame.encode(into: &buffer)
        try flush()
    }

    private func flush() throws(SystemError) {
        let failure = buffer.withUnsafeBytes { descriptor.writeAllResult($0) }
        if let failure { throw failure }
    }
}
