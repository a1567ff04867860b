import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A file of lines the host writes as a run goes (`--events`), which remembers its first write
/// error instead of ignoring it: ``finish()`` reports it once, as one line naming the file.
///
/// Writes are buffered; after a failure nothing more is written. Calls must not overlap (the
/// run's observers are called one at a time, in order).
public final class OutputFile: @unchecked Sendable {
    /// The path written.
    public let path: String
    /// The option that named it (`--events`), for messages.
    public let option: String
    private let file: UnsafeMutablePointer<FILE>
    private var failure: Int32?
    private var closed = false

    /// Creates (or truncates) `path`. Check it with ``OutputGuard`` first.
    public init(path: String, option: String) throws(HostError) {
        guard let file = fopen(path, "we") else {
            throw .usage("\(option) \(path): cannot open for writing: \(Errno(rawValue: errno))")
        }
        self.path = path
        self.option = option
        self.file = file
    }

    /// Writes to the process's standard output instead of a file (`--events -`), through a
    /// duplicate of descriptor 1: ``finish()`` flushes and closes the duplicate only.
    public init(standardOutputFor option: String) throws(HostError) {
        let descriptor = dup(1)
        guard descriptor >= 0, let file = fdopen(descriptor, "w") else {
            let error = Errno(rawValue: errno)
            if descriptor >= 0 { close(descriptor) }
            throw .usage("\(option) -: cannot write to standard output: \(error)")
        }
        self.path = "-"
        self.option = option
        self.file = file
    }

    /// Appends `line` and a newline.
    public func writeLine(_ line: String) {
        guard failure == nil, !closed else { return }
        if fputs(line, file) == EOF || fputc(10, file) == EOF { failure = errno }
    }

    /// Appends `bytes` (whole lines, each with its newline).
    func write(_ bytes: [UInt8]) {
        guard failure == nil, !closed, !bytes.isEmpty else { return }
        if bytes.withUnsafeBufferPointer({ fwrite($0.baseAddress, 1, $0.count, file) }) != bytes.count { failure = errno }
    }

    /// Flushes and closes the file. Returns nil when every line reached it, else one line naming
    /// the file and the error (`--events /dev/full: write failed: No space left on device`).
    /// Call once, after the last ``writeLine(_:)``.
    public func finish() -> String? {
        if !closed {
            closed = true
            if fclose(file) != 0, failure == nil { failure = errno }
        }
        return failure.map { "\(option) \(path): write failed: \(Errno(rawValue: $0))" }
    }

    deinit {
        if !closed { fclose(file) }
    }
}
