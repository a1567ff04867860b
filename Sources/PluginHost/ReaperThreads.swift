import DequeModule

/// The threads that wait for released workers' ends (see `WorkerSlot.reap`), kept for the whole
/// run: a one-shot run releases a worker per task, and a thread started and ended for each one
/// cost the master about a third of its CPU time (measured with `perf` on 4,000 one-shot jobs).
///
/// A reap waits for a process to end and its stderr to reach end of file, which can take up to
/// `WorkerSlot.stderrDrainNanoseconds` when something the worker started holds the pipe: so a
/// reap never queues behind another one. Each goes to an idle thread, or to a new one when every
/// thread is busy; the pool grows to the most reaps ever pending at once and no further.
final class ReaperThreads: @unchecked Sendable {
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var work = Deque<@Sendable () -> Void>()
    /// Threads waiting for work that no reap was handed to yet.
    private var waiting = 0
    /// Reaps handed to waiting threads, not yet taken.
    private var handedOut = 0
    private var stopping = false
    /// Threads started, and those not ended yet.
    private var started = 0
    private var live = 0

    /// Runs `reap` on a thread of the pool now: an idle one, or a new one when all are busy.
    func submit(_ reap: @escaping @Sendable () -> Void) {
        let needsThread: Bool = lock.withLock {
            work.append(reap)
            guard waiting > 0 else {
                started += 1
                live += 1
                return true
            }
            waiting -= 1
            handedOut += 1
            lock.signal()  // (One: every waiting thread waits for the same thing.)
            return false
        }
        if needsThread { startThread { self.serve() } }
    }

    /// How many threads the pool has started so far.
    var threadsStarted: Int { lock.withLock { started } }

    /// How many of its threads have not ended.
    var liveThreads: Int { lock.withLock { live } }

    /// How many of its threads wait for work.
    var idleThreads: Int { lock.withLock { waiting } }

    /// Ends every thread once the reaps given to it are done (the run is over: no more come).
    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
    }

    private func serve() {
        lock.lock()
        while true {
            if let reap = work.popFirst() {
                lock.unlock()
                reap()
                lock.lock()
                continue
            }
            if stopping { break }
            waiting += 1
            while handedOut == 0 && !stopping { lock.wait() }
            if handedOut > 0 {
                handedOut -= 1
            } else {
                waiting -= 1  // (Stopping, with nothing handed to this thread.)
            }
        }
        live -= 1
        lock.unlock()
    }
}
