/// Reads frames from a file descriptor with blocking reads.
///
/// Meant for a thread that owns one worker's input: `next()` blocks until a whole frame arrived,
/// returns `nil` on a clean end of stream, and throws ``FrameError`` on malformed bytes or
/// ``ReadError`` when the descriptor fails.
public struct FrameReader {
    /// The descriptor read from (not owned: the caller closes it).
    public let descriptor: Descriptor
    private var decoder: FrameDecoder

    /// Called after every successful read with the number of bytes it brought: a liveness
    /// signal while a large frame is still arriving.
    public var onBytes: ((Int) -> Void)?

    /// What one `read` asks for: 4 KiB at first, doubled after each read that filled it, up to
    /// 64 KiB. (The decoder's storage is as large as the first read: a fresh worker that only
    /// ever reads small frames zeroes one page of it, not sixteen, each a copy-on-write fault
    /// in a worker forked from a fork server.)
    private var readSize = FrameReader.firstReadSize
    static let firstReadSize = 4 * 1024
    static let largestReadSize = 64 * 1024

    /// Creates a reader of `descriptor`.
    public init(descriptor: Descriptor, maximumPayload: Int = Frame.defaultMaximumPayload) {
        self.descriptor = descriptor
        self.decoder = FrameDecoder(maximumPayload: maximumPayload)
    }

    /// The outcome of one read.
    public enum ReadError: Error, Sendable {
        /// The bytes were not a frame.
        case malformed(FrameError)
        /// The descriptor failed (the peer is gone).
        case io(SystemError)
    }

    /// Returns the next frame, or `nil` when the stream ended cleanly between frames.
    public mutating func next() throws(ReadError) -> Frame? {
        guard let frame = try nextReceived() else { return nil }
        return Frame(type: frame.type, id: frame.id, payload: Array(frame.payload))
    }

    /// Like ``next()``, but the payload is not copied out of the reader's buffer: handle the
    /// frame before the next read (see ``ReceivedFrame``).
    public mutating func nextReceived() throws(ReadError) -> ReceivedFrame? {
        while true {
            do {
                if let frame = try decoder.nextReceived() { return frame }
            } catch {
                throw .malformed(error)
            }
            // Straight into the decoder's buffer.
            let descriptor = self.descriptor
            let size = readSize
            let result = decoder.fill(atMost: size) { descriptor.readResult(into: $0) }
            let count: Int
            switch result {
            case .success(let value): count = value
            case .failure(let error): throw .io(error)
            }
            if count == size && size < Self.largestReadSize { readSize = size * 2 }
            if let onBytes, count > 0 { onBytes(count) }
            if count == 0 {
                do { try decoder.finish() } catch { throw .malformed(error) }
                return nil
            }
        }
    }
}
