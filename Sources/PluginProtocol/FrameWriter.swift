import SystemPackage

/// Writes frames to a file descriptor, reusing one buffer so the hot path does not allocate.
public struct FrameWriter {
    /// The descriptor written to (not owned: the caller closes it).
    public let descriptor: FileDescriptor
    private var buffer: [UInt8] = []

    /// Creates a writer to `descriptor`.
    public init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
        buffer.reserveCapacity(4096)
    }

    /// Writes one frame whose payload is given as raw bytes. Throws `Errno` when the peer is gone.
    public mutating func write(type: FrameType, id: UInt64, payload: UnsafeRawBufferPointer) throws(Errno) {
        buffer.removeAll(keepingCapacity: true)
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
        try flush()
    }

    /// Writes one frame whose payload is a byte array. Throws `Errno` when the peer is gone.
    public mutating func write(type: FrameType, id: UInt64, payload: [UInt8]) throws(Errno) {
        buffer.removeAll(keepingCapacity: true)
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
        try flush()
    }

    /// Writes one frame. Throws `Errno` when the peer is gone.
    public mutating func write(_ frame: Frame) throws(Errno) {
        buffer.removeAll(keepingCapacity: true)
        frame.encode(into: &buffer)
        try flush()
    }

    private func flush() throws(Errno) {
        do {
            _ = try buffer.withUnsafeBytes { bytes in
                try descriptor.writeAll(bytes)
            }
        } catch let errno as Errno {
            throw errno
        } catch {
            throw Errno.ioError
        }
    }
}
