#if canImport(Glibc)
import Glibc
#endif

/// Reads a file with `pread`, from its start, in chunks of up to 1 MiB: how blobs are hashed,
/// sent and verified.
public enum FileChunks {
    /// The largest chunk handed to a reader.
    public static let chunkSize = 1 << 20

    /// Calls `body` with each chunk of the first `limit` bytes of the file (all of it when nil),
    /// in order, until they are read or `body` returns false. Returns the number of bytes read,
    /// or nil when a read fails or the file ends before `limit`.
    public static func read(_ descriptor: Int32, limit: UInt64? = nil,
                            _ body: (UnsafeRawBufferPointer) -> Bool) -> UInt64? {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var offset: UInt64 = 0
        while limit.map({ offset < $0 }) ?? true {
            let want = limit.map { Int(min(UInt64(chunkSize), $0 - offset)) } ?? chunkSize
            let count = buffer.withUnsafeMutableBytes { raw in
                retryingOnInterrupt { pread(descriptor, raw.baseAddress, want, off_t(offset)) }
            }
            guard count >= 0 else { return nil }
            if count == 0 { return limit == nil ? offset : nil }
            offset += UInt64(count)
            let goOn = buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            if !goOn { break }
        }
        return offset
    }
}
