import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Stopping early: a drain (SIGTERM) or a halt (--halt). No task starts any more, every task not
// run ends cancelled with the stop's reason, and the run ends through its usual end.
extension Scheduler {
    /// Stops dispatch for `reason`: every queued task ends cancelled with the reason (as a
    /// cancellation: `on_task_lost` may still resolve it), no input is pulled any more, and tasks
    /// pushed or lost from now on end the same way instead of being queued or retried
    /// (``absorbSideEffectsLocked(_:parent:origin:outbox:sendBroadcasts:)``,
    /// ``taskLostLocked(_:reason:message:)``). Running tasks go on. Returns false if the run was
    /// already stopped or interrupted.
    @discardableResult
    func stopLocked(_ reason: RunStop) -> Bool {
        guard stop == nil, !interrupted else { return false }
        stop = reason
        cancelledBeforeStop = counts.cancelled
        for kind in kinds {
            for task in kind.queue.removeAll(where: { _ in true }) { cancelTaskLocked(task, reason: reason.rawValue) }
            kind.inputExhausted = true
        }
        lock.broadcast()
        return true
    }

    /// The running tasks.
    var runningTasksLocked: [(WorkerState, TaskRecord)] {
        slots.compactMap { worker in worker.flatMap { w in w.running.map { (w, $0) } } }
    }

    // MARK: - Drain

    /// Drains the run (see ``PluginRun/drain(timeout:)``): stops it, and after `timeout` seconds
    /// cancels the tasks still running. Returns how many tasks are running, or nil if the run has
    /// not started, has ended or was interrupted. A run already halted keeps its reason; the
    /// time limit applies to its running tasks all the same.
    func drainLocked(timeout: Double?) -> Int? {
        guard started, report == nil, !interrupted else { return nil }
        stopLocked(.drained)
        if let timeout {
            watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: timeout), .drainTimeout(seconds: timeout))
        }
        return runningTasksLocked.count
    }

    /// The drain's time is up: the tasks still running are cancelled, their workers killed.
    func drainTimedOutLocked(after seconds: Double) {
        guard !interrupted, let stop else { return }
        for (worker, task) in runningTasksLocked {
            cancelRunningLocked(worker, task, reason: "\(stop.rawValue): still running after the drain timeout of \(seconds) s")
        }
    }

    // MARK: - Halt

    /// Called as each task ends, with a halt policy set: notes that the policy is met. The halt
    /// itself waits for the next dispatch, which every path that ends a task runs before it
    /// could start another one, so the queues are never changed under a caller's feet.
    func countForHaltLocked() {
        guard let halt, stop == nil, !interrupted, !haltDue else { return }
        if halt.isReached(counts, tasks: Int(nextTaskID - 1)) { haltDue = true }
    }

    /// Halts if an ended task met the policy: stops the run (`soon`), and cancels the running
    /// tasks too (`now`). Says so once, on the host's stderr.
    func applyHaltIfDueLocked() {
        haltDue = false
        guard let halt, stopLocked(.halted) else { return }
        let running = runningTasksLocked
        let verb: String
        switch halt.counted {
        case .fail: verb = "failed"
        case .success: verb = "succeeded"
        case .done: verb = "ended"
        }
        var message = "plugin-host: --halt \(halt): \(halt.counted(in: counts)) of \(nextTaskID - 1) tasks \(verb)"
        switch halt.when {
        case .now:
            message += running.isEmpty ? "; stopping" : "; cancelling \(running.count) running"
            for (worker, task) in running { cancelRunningLocked(worker, task, reason: RunStop.halted.rawValue) }
        case .soon:
            message += running.isEmpty ? "; stopping" : "; starting no more tasks, waiting for \(running.count) running"
        }
        pendingWarnings.append(message)
    }
}
