#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor for the wire protocol's blocking reads and writes.
///
/// The protocol layer is linked into the worker, whose start-up time bounds one-shot task kinds,
/// so it is built without the concurrency and regex runtimes (which swift-system's module would
/// pull in: measured, they double a worker's start-up). The host side converts to and from
/// swift-system's `FileDescriptor` at its edge; failures are ``SystemError``s for the same reason.
public struct Descriptor: Sendable, Hashable {
    /// The raw descriptor number.
    public let rawValue: Int32

    /// Wraps a raw descriptor.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Reads up to `buffer.count` bytes, retrying on EINTR. Returns 0 at end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try readResult(into: buffer).get()
    }

    /// Writes every byte, retrying on EINTR and short writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        if let failure = writeAllResult(bytes) { throw failure }
    }

    /// `read(into:)` as a result, for use inside non-throwing buffer closures.
    public func readResult(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, SystemError> {
        let count = retryingOnInterrupt { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
        return count >= 0 ? .success(count) : .failure(SystemError(code: errno))
    }

    /// `writeAll(_:)` returning the failure, if any, for use inside non-throwing buffer closures.
    public func writeAllResult(_ bytes: UnsafeRawBufferPointer) -> SystemError? {
        var offset = 0
        while offset < bytes.count {
            let written = retryingOnInterrupt { Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset) }
            if written < 0 { return SystemError(code: errno) }
            offset += written
        }
        return nil
    }

    /// Closes the descriptor.
    public func close() { _ = Glibc.close(rawValue) }
}
