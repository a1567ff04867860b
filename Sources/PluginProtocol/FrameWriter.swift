#if canImport(Glibc)
import Glibc
#endif

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

    /// Called each time the peer has certainly taken more of what is being written: a piece
    /// (at most ``progressPiece`` bytes) written once more than the pipe's capacity has gone in
    /// during one flush, so that the reader must have drained some. Small frames (heartbeats)
    /// fit the pipe whether or not anyone reads, so they never count. nil (the default) writes
    /// everything with as few calls as possible.
    ///
    /// A blocking write to a pipe returns only once all of it is taken, so over a slow link one
    /// large frame can keep the writer waiting for seconds: with this set, such a frame goes out
    /// in pieces and each piece past the pipe's capacity shows the reader is alive.
    public var onProgress: (() -> Void)?

    /// The most bytes written by one system call when ``onProgress`` is set.
    public static let progressPiece = 16 << 10

    /// The pipe's capacity (`F_GETPIPE_SZ`), read once; 1 MiB (the most a pipe holds by
    /// default settings) when the descriptor is not a pipe.
    private lazy var linkCapacity: Int = {
        let size = fcntl(descriptor.rawValue, 1032 /* F_GETPIPE_SZ */)
        return size > 0 ? Int(size) : 1 << 20
    }()

    /// Creates a writer to `descriptor`.
    public init(descriptor: Descriptor) {
        self.descriptor = descriptor
        buffer.reserveCapacity(4096)
    }

    /// True when no frame is queued.
    public var isEmpty: Bool { buffer.isEmpty }

    /// The bytes queued and not yet written.
    public var bufferedByteCount: Int { buffer.count }

    /// Queues one frame whose payload is a byte array; nothing is written before ``flush()``.
    public mutating func queue(type: FrameType, id: UInt64, payload: [UInt8]) {
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// Writes every queued frame, in order, and empties the queue (also when the write fails).
    /// Throws `SystemError` when the peer is gone.
    public mutating func flush() throws(SystemError) {
        guard !buffer.isEmpty else { return }
        // Only what overflows the pipe needs pieces: the rest goes in at once, read or not.
        let capacity = onProgress == nil ? 0 : linkCapacity
        let failure = buffer.withUnsafeBytes { bytes -> SystemError? in
            guard let onProgress, bytes.count > capacity else { return descriptor.writeAllResult(bytes) }
            var offset = 0
            while offset < bytes.count {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[offset ..< min(bytes.count, offset + Self.progressPiece)])
                if let failure = descriptor.writeAllResult(piece) { return failure }
                offset += piece.count
                if offset > capacity { onProgress() }
            }
            return nil
        }
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
