#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered line output to a file descriptor, shared by the host, the CLI and the worker
/// (none of them may use stdio's shared `stdout`/`stderr` globals under strict concurrency).
public enum StandardStreams {
    /// Writes `text` and a newline (unless it already ends with one) to `descriptor` (2 by default).
    public static func writeLine(_ text: String, to descriptor: Int32 = 2) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        line.withUTF8 { _ = writeAll(UnsafeRawBufferPointer($0), to: descriptor) }
    }

    /// Writes all of `bytes` to `descriptor` (retrying after EINTR and short writes). Returns 0,
    /// or the errno of the write that failed.
    @discardableResult
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written < 0 { return errno }
            if written == 0 { return EIO }
            offset += written
        }
        return 0
    }
}
