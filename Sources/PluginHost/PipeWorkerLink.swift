import CSupport
import PluginProtocol
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The link to a worker process spawned by ``ProcessTransport``: frames over its stdin and
/// stdout pipes, its stderr read by a ``StderrPump``, signals to its process group and cgroup.
///
/// Writes are serialised by ``io``, which also guards the stderr tail; the reader belongs to the
/// slot thread alone.
final class PipeWorkerLink: WorkerLink, @unchecked Sendable {
    let process: WorkerProcess
    var pid: Int32 { process.pid }
    /// Serialises writes to the worker from the threads that dispatch to it; guards the fields
    /// below it.
    private let io = ConditionLock()
    private var writer: FrameWriter?
    /// The last lines the worker wrote to stderr.
    private var tail = StderrTail()
    private var stderrClosed = false
    /// Held by the pump while it reads and forwards one chunk of stderr, so that
    /// ``forwardWrittenStderr(waitingUntil:)`` never sees a chunk half-way; guards the two below.
    private let stderrChunk = ConditionLock()
    /// Stderr bytes read and forwarded.
    private var stderrForwarded: UInt64 = 0
    /// The stderr descriptor is closed.
    private var stderrEnded = false
    /// Read by the slot thread only.
    private var reader: FrameReader

    /// Takes over `process`'s pipes: starts its stderr pump (lines go to `launch.stderrLine`).
    init(process: WorkerProcess, launch: WorkerLaunch) {
        self.process = process
        reader = FrameReader(descriptor: Descriptor(process.output.rawValue))
        writer = FrameWriter(descriptor: Descriptor(process.input.rawValue))
        if let onActivity = launch.onActivity {
            reader.onBytes = { _ in onActivity() }
            // What the worker takes from the link is news from it too: while this side writes a
            // large frame over a slow link, the worker's heartbeats wait unread.
            writer!.onProgress = onActivity
        }
        StderrPump.start(name: launch.name, descriptor: process.errors, link: self, tailLines: launch.stderrTailLines,
                         forward: launch.stderrLine)
    }

    func receive() throws(FrameReader.ReadError) -> ReceivedFrame? {
        try reader.nextReceived()
    }

    func enqueue(type: FrameType, id: UInt64, payload: [UInt8]) {
        io.withLock { writer?.queue(type: type, id: id, payload: payload) }
    }

    func flush() {
        io.withLock { try? writer?.flush() }
    }

    func sendHeartbeat() {
        guard io.tryLock() else { return }  // Another thread writes: the worker hears that anyway.
        defer { io.unlock() }
        guard let queued = writer?.isEmpty, queued else { return }  // Queued frames: their flush is near.
        let pollOut: Int16 = Int16(POLLOUT)
        var probe = pollfd(fd: process.input.rawValue, events: pollOut, revents: 0)
        let ready: Int32 = poll(&probe, 1, 0)
        guard ready == 1, (probe.revents & pollOut) != 0 else { return }
        try? writer!.write(type: .heartbeat, id: 0, payload: [])
    }

    func sendBlob(_ blob: BlobStore.Blob?) {
        io.withLock {
            guard writer != nil else { return }
            guard let blob else {
                try? writer!.write(type: .blobEnd, id: 0, payload: Array("the master has no such blob".utf8))
                return
            }
            var writeFailed = false
            let sent = FileChunks.read(blob.descriptor, limit: blob.size) { chunk in
                // (With heartbeats, the writer counts each piece the worker takes as news from it.)
                guard (try? writer!.write(type: .blobData, id: 0, payload: chunk)) != nil else {
                    writeFailed = true
                    return false
                }
                return true
            }
            if writeFailed { return }  // The worker is gone; its reader sees the end.
            guard sent == blob.size else {
                try? writer!.write(type: .blobEnd, id: 0, payload: Array("the master cannot read the blob".utf8))
                return
            }
            try? writer!.write(type: .blobEnd, id: 0, payload: [])
        }
    }

    func signal(_ number: Int32) {
        process.send(signal: number)
    }

    func closeInput() {
        io.withLock {
            guard writer != nil else { return }
            writer = nil
            process.closeInput()
        }
    }

    func residentMemoryBytes() -> Int64? {
        let bytes = csupport_rss_bytes(process.pid)
        return bytes >= 0 ? bytes : nil
    }

    func waitForExit() -> WorkerTermination {
        process.waitForExit()
    }

    var killedOutOfMemory: Bool { process.killedOutOfMemory }

    func stderrTail(waitingUntil deadline: UInt64) -> [String] {
        io.withLock {
            while !stderrClosed && monotonicNanoseconds() < deadline {
                io.wait(untilNanoseconds: deadline)
            }
            return tail.lines
        }
    }

    func close() {
        closeInput()
        io.withLock { process.closeOutput() }
        reader.onBytes = nil  // (The reader is done: nothing reads after close.)
    }

    func forwardWrittenStderr(waitingUntil deadline: UInt64) {
        stderrChunk.withLock {
            // The pump reads only under this lock: what is not in the pipe now was forwarded.
            var unread: Int32 = 0
            guard !stderrEnded, ioctl(process.errors.rawValue, UInt(FIONREAD), &unread) == 0 else { return }
            let target = stderrForwarded + UInt64(max(unread, 0))
            while !stderrEnded && stderrForwarded < target && monotonicNanoseconds() < deadline {
                stderrChunk.wait(untilNanoseconds: deadline)
            }
        }
    }

    /// Runs `readAndForward` (the pump reading one chunk of stderr and forwarding its lines),
    /// which returns the bytes read (0 or less at the end), under the chunk lock (the pump's thread).
    func forwardStderrChunk(_ readAndForward: () -> Int) -> Int {
        stderrChunk.withLock {
            let count = readAndForward()
            if count > 0 {
                stderrForwarded += UInt64(count)
                stderrChunk.broadcast()
            }
            return count
        }
    }

    /// Records one stderr line, keeping the last `limit` (the pump's thread).
    func appendStderr(_ line: String, limit: Int) {
        io.withLock { tail.append(line, limit: limit) }
    }

    /// The worker's stderr reached its end: closes `descriptor` (the pump's thread).
    func endStderr(closing descriptor: FileDescriptor) {
        stderrChunk.withLock {
            try? descriptor.close()
            stderrEnded = true
            stderrChunk.broadcast()
        }
        io.withLock {
            stderrClosed = true
            io.broadcast()
        }
    }
}
