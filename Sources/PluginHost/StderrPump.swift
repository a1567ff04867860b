import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Reads a worker's stderr on its own thread: each line goes to the host's stderr prefixed with
/// the worker's name, and the last lines are kept for the report if the worker dies.
enum StderrPump {
    /// Starts the pump of the worker `name`: it owns `descriptor` and closes it at end of stream.
    static func start(name: String, descriptor: FileDescriptor, link: PipeWorkerLink, tailLines: Int,
                      forward: @escaping @Sendable (String) -> Void) {
        startThread {
            var lines = StderrLineSplitter()
            var buffer = [UInt8](repeating: 0, count: 4096)
            func emit(_ bytes: ArraySlice<UInt8>) {
                let line = String(decoding: bytes, as: UTF8.self)
                link.appendStderr(line, limit: tailLines)
                forward("[\(name)] \(line)")
            }
            while true {
                // Wait for bytes without taking them, then read and forward them as one chunk
                // under the link's chunk lock (see PipeWorkerLink.forwardWrittenStderr).
                var probe = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
                if poll(&probe, 1, -1) < 0 {
                    if errno == EINTR { continue }
                    break
                }
                let count = link.forwardStderrChunk {
                    let count = (try? buffer.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }) ?? 0
                    if count > 0 { lines.feed(buffer[0..<count], emit: emit) }
                    return count
                }
                if count <= 0 { break }
            }
            lines.finish(emit: emit)
            link.endStderr(closing: descriptor)
        }
    }
}
