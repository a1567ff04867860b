import CSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Reads the stderr of this process's local workers: each line goes to the host's stderr
/// prefixed with the worker's name, and the last lines are kept for the report if the worker dies.
///
/// One thread reads them all (an epoll set), started with the first worker and kept for the
/// process's life: a thread per worker cost each one-shot worker a thread's creation on its
/// start. Should the set be unusable (no epoll instance, or the kernel's limit of watches), a
/// worker's stderr gets a thread of its own, as before.
final class StderrPump: @unchecked Sendable {
    /// Starts pumping the stderr of the worker `name`: the pump owns `descriptor` and closes it
    /// at the end of the stream.
    static func start(name: String, descriptor: FileDescriptor, link: PipeWorkerLink, tailLines: Int,
                      forward: @escaping @Sendable (String) -> Void) {
        let source = StderrSource(name: name, descriptor: descriptor, link: link, tailLines: tailLines,
                                  forward: forward)
        if let shared, shared.add(source) { return }
        startThread { source.pumpAlone() }
    }

    /// The process's pump, started on first use; nil when no epoll instance could be made.
    private static let shared: StderrPump? = {
        let epoll = csupport_epoll_create()
        guard epoll >= 0 else { return nil }
        let pump = StderrPump(epoll: epoll)
        startThread { pump.run() }
        return pump
    }()

    private let epoll: Int32
    private let lock = ConditionLock()
    /// The streams being read, by descriptor (guarded by `lock`).
    private var sources: [Int32: StderrSource] = [:]

    private init(epoll: Int32) {
        self.epoll = epoll
    }

    /// Adds `source` to the set; false when the kernel refused it.
    private func add(_ source: StderrSource) -> Bool {
        let fd = source.descriptor.rawValue
        lock.withLock { sources[fd] = source }
        guard csupport_epoll_add_input(epoll, fd) == 0 else {
            lock.withLock { sources[fd] = nil }
            return false
        }
        return true
    }

    /// The pump's thread: reads a chunk from each ready stream; an ended one leaves the set
    /// before its descriptor is closed (so its number, once reused, is a new stream's).
    private func run() {
        _ = csupport_unpin_thread()  // (Started by a slot thread, maybe pinned: it serves every slot.)
        var ready = [Int32](repeating: -1, count: 64)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = csupport_epoll_wait_fds(epoll, &ready, Int32(ready.count))
            if count < 0 {
                if errno == EINTR { continue }
                preconditionFailure("epoll_wait: \(Errno(rawValue: errno))")
            }
            for fd in ready[0..<Int(count)] {
                guard let source = lock.withLock({ sources[fd] }) else { continue }
                if source.readChunk(into: &buffer) { continue }
                _ = csupport_epoll_remove(epoll, fd)
                lock.withLock { sources[fd] = nil }
                source.finish()
            }
        }
    }
}

/// One worker's stderr stream, read by ``StderrPump`` (one thread at a time).
private final class StderrSource: @unchecked Sendable {
    let name: String
    let descriptor: FileDescriptor
    let link: PipeWorkerLink
    let tailLines: Int
    let forward: @Sendable (String) -> Void
    private var lines = StderrLineSplitter()

    init(name: String, descriptor: FileDescriptor, link: PipeWorkerLink, tailLines: Int,
         forward: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.descriptor = descriptor
        self.link = link
        self.tailLines = tailLines
        self.forward = forward
    }

    /// Reads and forwards one chunk as a whole under the link's chunk lock (see
    /// PipeWorkerLink.forwardWrittenStderr). False at the end of the stream.
    func readChunk(into buffer: inout [UInt8]) -> Bool {
        let count = link.forwardStderrChunk {
            let count = (try? buffer.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }) ?? 0
            if count > 0 { lines.feed(buffer[0..<count], emit: emit) }
            return count
        }
        return count > 0
    }

    /// The stream ended: its last partial line is forwarded and its descriptor closed.
    func finish() {
        lines.finish(emit: emit)
        link.endStderr(closing: descriptor)
    }

    /// Reads the stream on the calling thread until it ends.
    func pumpAlone() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // Wait for bytes without taking them, then read them as one chunk.
            var probe = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if !readChunk(into: &buffer) { break }
        }
        finish()
    }

    private func emit(_ bytes: ArraySlice<UInt8>) {
        let line = String(decoding: bytes, as: UTF8.self)
        link.appendStderr(line, limit: tailLines)
        forward("[\(name)] \(line)")
    }
}
