import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The frames going to a worker agent: queued by any thread, written by one writer thread, each
/// batch with as few writes as it takes.
///
/// Control frames (signals, ends, spawns, heartbeats) are queued without ever blocking, so the
/// scheduler may send them under its lock; a worker's input waits for room while more than
/// ``bound`` bytes are queued, so a slow link holds back the threads feeding it rather than the
/// master's memory. What several threads queue at once goes out in one write: a run of small
/// frames never meets Nagle's algorithm and a delayed acknowledgement on a TCP link (ssh, srun)
/// one frame at a time.
///
/// The writer owns the descriptor from ``start()``: it closes it after ``close()`` once everything
/// queued is written, or when a write fails (the agent is gone: its reader sees the end); frames
/// queued after either are dropped, so nothing is ever written to a reused descriptor number.
/// A socket that the connection's reader shares is shut down for writing instead, and left to
/// the reader's owner to close once ``isFinished`` (see ``waitUntilFinished(untilNanoseconds:)``).
final class AgentFrameQueue: @unchecked Sendable {
    private let descriptor: Int32
    private let sharesSocket: Bool
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var queued: [UInt8] = []
    private var closing = false
    private var finished = false

    /// Queued bytes beyond which a worker's input waits for room.
    static let bound = 4 << 20

    /// `sharesSocket`: `descriptor` is a socket the reader reads too (shut down, not closed).
    init(descriptor: Int32, sharesSocket: Bool = false) {
        self.descriptor = descriptor
        self.sharesSocket = sharesSocket
    }

    /// Starts the writer thread.
    func start() {
        startThread { self.run() }
    }

    /// Queues one frame; with `waitingForRoom`, first waits while more than ``bound`` bytes are
    /// queued. Dropped once the queue is closed or its writes failed.
    func enqueue<Payload: Collection>(_ type: FrameType, id: UInt64, payload: Payload, waitingForRoom: Bool = false)
    where Payload.Element == UInt8 {
        lock.withLock {
            while waitingForRoom && queued.count > Self.bound && !closing && !finished { lock.wait() }
            guard !closing && !finished else { return }
            Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &queued)
            queued.append(contentsOf: payload)
            lock.broadcast()
        }
    }

    /// Queues a heartbeat unless frames are waiting (their write says as much).
    func enqueueHeartbeat() {
        lock.withLock {
            guard queued.isEmpty && !closing && !finished else { return }
            Frame.encodeHeader(type: .heartbeat, id: 0, payloadLength: 0, into: &queued)
            lock.broadcast()
        }
    }

    /// Ends the queue: what is queued is written, then the descriptor closed (the agent reads
    /// end of file). Later frames are dropped.
    func close() {
        lock.withLock {
            closing = true
            lock.broadcast()
        }
    }

    /// True once the writer closed the descriptor (or, for a shared socket, shut it down for
    /// writing): from then on it never touches the descriptor again.
    var isFinished: Bool { lock.withLock { finished } }

    /// Waits until the writer finished (see ``isFinished``) or `deadline` (monotonic
    /// nanoseconds) passed; returns whether it finished.
    func waitUntilFinished(untilNanoseconds deadline: UInt64) -> Bool {
        lock.withLock {
            while !finished && monotonicNanoseconds() < deadline { lock.wait(untilNanoseconds: deadline) }
            return finished
        }
    }

    private func run() {
        var batch: [UInt8] = []
        while true {
            let done: Bool = lock.withLock {
                while queued.isEmpty && !closing { lock.wait() }
                swap(&batch, &queued)
                lock.broadcast()  // (Room for the input waiting.)
                return batch.isEmpty && closing
            }
            if done { break }
            let failure = batch.withUnsafeBytes { Descriptor(descriptor).writeAllResult($0) }
            batch.removeAll(keepingCapacity: batch.count <= 1 << 20)
            if failure != nil { break }
        }
        if sharesSocket { shutdown(descriptor, Int32(SHUT_WR)) } else { Glibc.close(descriptor) }
        lock.withLock {
            finished = true
            queued = []
            lock.broadcast()
        }
    }
}
