import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The worker's end of a link with heartbeats (a worker started through a launcher, such as ssh).
///
/// A reader thread takes every frame from the master as it arrives, so the master's heartbeats
/// are seen even while a request runs, and hands requests and broadcasts to the main thread. A
/// heartbeat thread sends the master a heartbeat every interval and ends the process when the
/// master has been silent for `misses` intervals: over a network a cut link gives no end of
/// file, and a worker must not outlive its master. End of file while a request runs means the
/// master gave up on it (cancelled, or gone): the process ends at once.
final class MasterLink: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [FrameSource.Item] = []
    private var lastHeard: UInt64
    private var performing = false
    /// Serialises whole-frame writes of the main thread and the heartbeat thread.
    let writeLock = WriteLock()
    let name: String

    init(name: String) {
        self.name = name
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        lastHeard = monotonicNanoseconds()
    }

    /// Starts the reader and heartbeat threads.
    func start(input: Descriptor, output: Descriptor, interval: Double, misses: Int) {
        spawnThread { [self] in readLoop(FrameReader(descriptor: input)) }
        spawnThread { [self] in heartbeatLoop(output: output, interval: interval, misses: misses) }
    }

    /// The next request or broadcast, or the end of the link; blocks.
    func next() -> FrameSource.Item {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while items.isEmpty { pthread_cond_wait(condition, mutex) }
        return items.removeFirst()
    }

    /// Marks whether a request is running (an end of file during one ends the process).
    func setPerforming(_ value: Bool) {
        pthread_mutex_lock(mutex)
        performing = value
        pthread_mutex_unlock(mutex)
    }

    private func heard() {
        pthread_mutex_lock(mutex)
        lastHeard = monotonicNanoseconds()
        pthread_mutex_unlock(mutex)
    }

    private func push(_ item: FrameSource.Item) {
        pthread_mutex_lock(mutex)
        let busy = performing
        if case .end = item, busy {
            pthread_mutex_unlock(mutex)
            printError("plugin-worker: \(name): the master closed the link during a request; stopping")
            _exit(0)
        }
        items.append(item)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    private func readLoop(_ initial: FrameReader) {
        var reader = initial
        reader.onBytes = { [self] _ in heard() }
        while true {
            let frame: Frame?
            do {
                frame = try reader.next()
            } catch {
                push(.failure("unreadable input from the master: \(error)"))
                return
            }
            guard let frame else {
                push(.end)
                return
            }
            // A copy out of the reader's buffer: the main thread handles it later.
            if frame.type != .heartbeat { push(.frame(ReceivedFrame(type: frame.type, id: frame.id, payload: frame.payload[...]))) }
        }
    }

    private func heartbeatLoop(output: Descriptor, interval: Double, misses: Int) {
        var writer = FrameWriter(descriptor: output)
        let step: UInt64 = UInt64(interval * 1e9)
        let limit: UInt64 = step &* UInt64(max(1, misses))
        let pollOut: Int16 = Int16(POLLOUT)
        let pollBroken: Int16 = Int16(POLLERR) | Int16(POLLHUP)
        while true {
            let seconds: Int = Int(step / 1_000_000_000)
            let nanoseconds: Int = Int(step % 1_000_000_000)
            var pause = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
            // An interrupted sleep goes on for the time left, which nanosleep writes back into
            // `pause` (its request and remainder may be the same object).
            withUnsafeMutablePointer(to: &pause) { pause in _ = retryingOnInterrupt { nanosleep(pause, pause) } }
            pthread_mutex_lock(mutex)
            let silence: UInt64 = monotonicNanoseconds() &- lastHeard
            pthread_mutex_unlock(mutex)
            if silence > limit {
                let milliseconds: UInt64 = silence / 1_000_000
                printError("plugin-worker: \(name): no word from the master for \(Double(milliseconds) / 1000) s; exiting")
                _exit(3)
            }
            // Skip a beat rather than block behind a full pipe or socket: the main thread may
            // hold the write lock for a long response, which tells the master as much.
            guard writeLock.tryLock() else { continue }
            var probe = pollfd(fd: output.rawValue, events: pollOut, revents: 0)
            let ready: Int32 = poll(&probe, 1, 0)
            if ready == 1 && (probe.revents & pollOut) != 0 {
                do {
                    try writer.write(type: .heartbeat, id: 0, payload: [])
                } catch {
                    writeLock.unlock()
                    _exit(0)  // The master is gone.
                }
            } else if (probe.revents & pollBroken) != 0 {
                writeLock.unlock()
                _exit(0)
            }
            writeLock.unlock()
        }
    }

}

/// A mutex for whole-frame writes shared by two threads.
final class WriteLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }
}

/// Runs `body` on a new detached thread; a worker that cannot start one exits with status 2.
func spawnThread(_ body: @escaping @Sendable () -> Void) {
    let rc = startDetachedThread(body)
    if rc != 0 {
        printError("plugin-worker: cannot start a thread (error \(rc))")
        _exit(2)
    }
}
