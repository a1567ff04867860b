import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// An `--events` file read back, one event at a time (for `plugin-host trace` and `report`).
public enum EventsFile {
    /// Calls `body` with every event of the file at `path`, in order; lines of events this host
    /// does not know are skipped, blank lines too. A line that is not an event (a truncated last
    /// line, another file) stops the reading with one line naming the file, the line and the cause
    /// (`run.jsonl:7: the line ends inside a string (column 41)`), as ``HostError/usage(_:)``.
    public static func read(_ path: String, _ body: (HostEvent) -> Void) throws(HostError) {
        guard let file = fopen(path, "re") else {
            throw .usage("\(path): cannot read the events file: \(Errno(rawValue: errno))")
        }
        defer { fclose(file) }
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        var lineNumber = 0
        while true {
            errno = 0
            let count = getline(&buffer, &capacity, file)
            if count < 0 {
                if ferror(file) != 0 { throw .usage("\(path): cannot read the events file: \(Errno(rawValue: errno))") }
                return
            }
            lineNumber += 1
            guard let buffer else { continue }
            var length = count
            while length > 0, buffer[length - 1] == 10 || buffer[length - 1] == 13 { length -= 1 }
            if length == 0 { continue }
            let line = UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: length)
            let event: HostEvent?
            do { event = try HostEvent(jsonLine: line) } catch {
                let truncated = count == length ? " (the file ends there: truncated?)" : ""
                throw .usage("\(path):\(lineNumber): \(error.description)\(truncated)")
            }
            if let event { body(event) }
        }
    }
}
