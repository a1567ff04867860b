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
        line.withUTF8 { _ = Descriptor(descriptor).writeAllResult(UnsafeRawBufferPointer($0)) }
    }
}
