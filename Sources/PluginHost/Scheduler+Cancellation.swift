import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Cancellation: of one task and its follow-ups, of a named worker, of the whole run.
extension Scheduler {
    /// Cancels a task (queued or running) and its follow-ups. Returns false if it is unknown or ended.
    func cancelLocked(taskID: UInt64) -> Bool {
        var found = false
        for kind in kinds {
            for task in kind.queue.removeAll(where: { $0.id == taskID || $0.root == taskID }) {
                cancelTaskLocked(task)
                found = true
            }
        }
        for case let worker? in slots {
            if let task = worker.running, task.id == taskID || task.root == taskID {
                cancelRunningLocked(worker, task)
                found = true
            }
        }
        return found
    }

    /// Ends `task` cancelled with `reason`, unless the plugin's `on_task_lost` resolves it done.
    func cancelTaskLocked(_ task: TaskRecord, reason: String = "cancelled") {
        let decision = lossDecisionLocked(task, PH_LOSS_CANCELLED, reason, willRetry: false)
        if let resolution = decision.resolution, resolution.outcome == .done {
            endLocked(task, .done, resolution.message)
        } else {
            endLocked(task, .cancelled, reason)
        }
    }

    /// Cancels a running task and kills its worker (SIGTERM, then SIGKILL after the grace period).
    func cancelRunningLocked(_ worker: WorkerState, _ task: TaskRecord, reason: String = "cancelled") {
        cancelTaskLocked(task, reason: reason)
        worker.running = nil
        worker.exitIntent = .taskCancelled
        terminateLocked(worker)
    }

    /// SIGTERM now, SIGKILL after the grace period.
    func terminateLocked(_ worker: WorkerState) {
        worker.signal(SIGTERM)
        watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.killGracePeriod),
                          .kill(worker: worker))
    }

    /// Cancels every task and stops the run.
    func cancelAllLocked() {
        interrupted = true
        for kind in kinds {
            for task in kind.queue.removeAll(where: { _ in true }) { cancelTaskLocked(task) }
            kind.inputExhausted = true
        }
        for case let worker? in slots {
            if let task = worker.running {
                cancelRunningLocked(worker, task)
            } else if worker.exitIntent == nil {
                retireLocked(worker, .shutdown)
            }
        }
        lock.broadcast()
    }

    /// Kills one worker by name; its running task is handled as a worker death (and retried).
    func cancelWorkerLocked(name: String) -> Bool {
        guard let worker = slots.compactMap({ $0 }).first(where: { $0.name == name }), worker.exitIntent == nil else {
            return false
        }
        worker.exitIntent = .workerCancelled
        terminateLocked(worker)
        return true
    }
}
