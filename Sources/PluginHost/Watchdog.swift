import HeapModule

#if canImport(Glibc)
import Glibc
#endif

/// One thread that fires deadlines: task time limits and the SIGKILL after a cancellation's grace.
///
/// Deadlines are kept in a min-heap; the thread sleeps on a condition variable until the
/// earliest one (monotonic clock), so an expiry costs no polling.
final class Watchdog: @unchecked Sendable {
    /// What to do at a deadline.
    enum Action {
        /// The task's time limit passed: if the worker still runs it, kill the worker.
        case expire(worker: WorkerState, taskID: UInt64)
        /// The grace period after SIGTERM passed: SIGKILL if the worker still lives.
        case kill(worker: WorkerState)
        /// The worker had this long to send its hello: SIGKILL if it is still starting.
        case handshake(worker: WorkerState)
        /// A heartbeat interval of the worker passed: send one, or find it lost.
        case heartbeat(worker: WorkerState)
        /// Time to compare the busy workers' resident memory with the limit (reschedules itself).
        case memoryCheck
        /// A drain's time for running tasks is up: cancel those still running.
        case drainTimeout(seconds: Double)
        /// Read the memory available against `--memfree`.
        case memfreeCheck
    }

    private struct Entry: Comparable {
        let deadline: UInt64
        let sequence: UInt64
        let action: Action
        static func < (a: Entry, b: Entry) -> Bool { (a.deadline, a.sequence) < (b.deadline, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.deadline == b.deadline && a.sequence == b.sequence }
    }

    private let lock = ConditionLock()
    private var heap = Heap<Entry>()
    private var sequence: UInt64 = 0
    private var stopped = false

    /// Adds a deadline (monotonic nanoseconds).
    func schedule(at deadline: UInt64, _ action: Action) {
        lock.withLock {
            sequence += 1
            let wakes = heap.min.map { deadline < $0.deadline } ?? true
            heap.insert(Entry(deadline: deadline, sequence: sequence, action: action))
            // The thread sleeps until the earliest deadline: only a new earliest one needs it
            // awake (every worker's start schedules one, and a wake-up is two context switches).
            if wakes { lock.broadcast() }
        }
    }

    /// Starts the thread.
    func start(scheduler: Scheduler) {
        startThread { [self] in run(scheduler) }
    }

    /// Stops the thread (pending deadlines are dropped).
    func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
    }

    private func run(_ scheduler: Scheduler) {
        while true {
            var due: [Action] = []
            lock.withLock {
                while !stopped {
                    let now = monotonicNanoseconds()
                    if let first = heap.min, first.deadline <= now {
                        due.append(heap.removeMin().action)
                        continue
                    }
                    if !due.isEmpty { break }
                    if let first = heap.min { lock.wait(untilNanoseconds: first.deadline) } else { lock.wait() }
                }
            }
            if due.isEmpty { return }
            var checksMemory = false
            var checksMemfree = false
            scheduler.lock.withLock {
                for action in due {
                    switch action {
                    case .expire(let worker, let taskID):
                        scheduler.expireLocked(worker, taskID: taskID)
                    case .kill(let worker):
                        worker.signal(SIGKILL)
                    case .heartbeat(let worker):
                        scheduler.heartbeatLocked(worker)
                    case .handshake(let worker):
                        if worker.phase == .starting {
                            worker.handshakeTimedOut = true
                            worker.signal(SIGKILL)
                        }
                    case .memoryCheck:
                        checksMemory = true
                    case .drainTimeout(let seconds):
                        scheduler.drainTimedOutLocked(after: seconds)
                    case .memfreeCheck:
                        checksMemfree = true
                    }
                }
            }
            if checksMemory { scheduler.checkWorkerMemory() }
            if checksMemfree { scheduler.checkAvailableMemory() }
        }
    }
}
