#if canImport(Glibc)
import Glibc
#endif

/// What makes a spare worker a worker: the first bytes the master writes to the stdin of a
/// worker a fork server forked ahead of need (`S`, see the worker's `ForkServer.swift`).
///
/// A spare is forked, placed in its cgroup and on its core, and then waits for this message
/// before it runs any plugin code (`worker_init` takes the name), so handing one over costs the
/// master one small write. Encoded as a 2-byte little-endian length, then `NAME`, `HEARTBEAT`
/// (seconds, empty for none) and `MISSES` separated by NUL bytes (no name holds one): one write
/// under `PIPE_BUF`, read whole before the worker's frames.
public struct SpareWorkerStart: Sendable, Equatable {
    /// The worker's name (`kind:slot:uid`).
    public let name: String
    /// Seconds between heartbeats; nil for none.
    public let heartbeat: Double?
    /// Missed heartbeats that end the worker.
    public let heartbeatMisses: Int

    /// The start of a worker named `name`.
    public init(name: String, heartbeat: Double?, heartbeatMisses: Int) {
        self.name = name
        self.heartbeat = heartbeat
        self.heartbeatMisses = heartbeatMisses
    }

    /// The largest message: it must go in one atomic pipe write.
    public static let largestMessage = 4_000

    /// The message's bytes, length first; nil when it would exceed ``largestMessage``.
    public func encoded() -> [UInt8]? {
        let body = AgentFields.encode([name, heartbeat.map { String($0) } ?? "", String(heartbeatMisses)])
        guard body.count + 2 <= Self.largestMessage else { return nil }
        return [UInt8(body.count & 0xff), UInt8(body.count >> 8)] + body
    }

    /// Reads one message from `descriptor`, byte-exact (nothing after it is consumed). Nil at end
    /// of stream (the master dropped the spare) or on a malformed message.
    public static func read(from descriptor: Descriptor) -> SpareWorkerStart? {
        guard let header = readExactly(2, from: descriptor) else { return nil }
        let length = Int(header[0]) | Int(header[1]) << 8
        guard length + 2 <= largestMessage, let body = readExactly(length, from: descriptor) else { return nil }
        let fields = AgentFields.decode(body)
        guard fields.count == 3, !fields[0].isEmpty, let misses = Int(fields[2]) else { return nil }
        return SpareWorkerStart(name: fields[0], heartbeat: Double(fields[1]), heartbeatMisses: misses)
    }

    private static func readExactly(_ count: Int, from descriptor: Descriptor) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                descriptor.readResult(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            }
            guard case .success(let read) = result, read > 0 else { return nil }
            filled += read
        }
        return bytes
    }
}
