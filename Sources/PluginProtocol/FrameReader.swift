import SystemPackage

/// Reads frames from a file descriptor with blocking reads.
///
/// Meant for a thread that owns one worker's input: `next()` blocks until a whole frame arrived,
/// returns `nil` on a clean end of stream, and throws ``FrameError`` on malformed bytes or
/// ``ReadError`` when the descriptor fails.
public struct FrameReader {
    /// The descriptor read from (not owned: the caller closes it).
    public let descriptor: FileDescriptor
    private var decoder: FrameDecoder
    private var scratch: [UInt8]

    /// Creates a reader of `descriptor`.
    public init(descriptor: FileDescriptor, maximumPayload: Int = Frame.defaultMaximumPayload) {
        self.descriptor = descriptor
        self.decoder = FrameDecoder(maximumPayload: maximumPayload)
        self.scratch = [UInt8](repeating: 0, count: 64 * 1024)
    }

    /// The outcome of one read.
    public enum ReadError: Error, Sendable {
        /// The bytes were not a frame.
        case malformed(FrameError)
        /// The descriptor failed (the peer is gone).
        case io(Errno)
    }

    /// Returns the next frame, or `nil` when the stream ended cleanly between frames.
    public mutating func next() throws(ReadError) -> Frame? {
        while true {
            do {
                if let frame = try decoder.next() { return frame }
            } catch {
                throw .malformed(error)
            }
            let count: Int
            do {
                count = try scratch.withUnsafeMutableBytes { buffer in
                    try descriptor.read(into: buffer, retryOnInterrupt: true)
                }
            } catch let errno as Errno {
                throw .io(errno)
            } catch {
                throw .io(.ioError)
            }
            if count == 0 {
                do { try decoder.finish() } catch { throw .malformed(error) }
                return nil
            }
            scratch.withUnsafeBytes { decoder.feed(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }
}
