import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Losses: tasks that lost their worker, that no worker can take, or whose workers cannot start.
extension Scheduler {
    /// Tells the plugin a task was lost (`on_task_lost`) and queues what it pushed meanwhile.
    func lossDecisionLocked(_ task: TaskRecord, _ reason: ph_loss_reason, _ message: String,
                                    willRetry: Bool) -> Decision {
        let decision = task.kind.plugin.taskLost(task.bytes, reason: reason, message: message, willRetry: willRetry,
                                                  taskID: task.id)
        if !willRetry || decision.resolution != nil { task.judgedWithoutResponse = true }
        absorbSideEffectsLocked(task.kind, parent: task, origin: nil)
        return decision
    }

    /// Ends `task` as the plugin resolved it, or else with `outcome` and `message`.
    func settleLocked(_ task: TaskRecord, _ decision: Decision, otherwise outcome: TaskOutcome, _ message: String) {
        if let resolution = decision.resolution {
            endLocked(task, resolution.outcome, resolution.message)
        } else {
            endLocked(task, outcome, message)
        }
    }

    /// Fails queued tasks that no live worker matches and no fresh worker could take.
    func failOrphansLocked(_ kind: KindState) -> Bool {
        if !kind.inputExhausted { return false }
        let slots = self.slots
        for case let worker? in slots where worker.kind === kind && worker.isOccupied {
            return false
        }
        let idle = slots.compactMap { $0 }.filter { $0.kind === kind && $0.canTakeWork }
        let orphans = kind.queue.removeAll { task in
            if freshMatchLocked(task) { return false }
            return !idle.contains { canTakeLocked($0, task) }
        }
        for task in orphans {
            let message = "no worker can take this task (the worker holding its state is gone)"
            settleLocked(task, lossDecisionLocked(task, PH_LOSS_ORPHANED, message, willRetry: false),
                         otherwise: .failed, message)
        }
        return !orphans.isEmpty
    }

    func failUnstartableLocked(_ kind: KindState) {
        let message = kind.spawnFailure ?? "workers cannot be started"
        let tasks = kind.queue.removeAll { _ in true }
        for task in tasks {
            let decision = lossDecisionLocked(task, PH_LOSS_SPAWN_FAILED, message, willRetry: false)
            if decision.resolution == nil && !kind.reportedSpawnFailure {
                kind.reportedSpawnFailure = true
                setupErrors.append("\(kind.name): worker could not be started: \(message)")
            }
            settleLocked(task, decision, otherwise: .failed, "worker could not be started: \(message)")
        }
    }

    /// A running task lost its worker: retry it, or let the plugin resolve it, or end it.
    /// A running task whose worker was killed for the machine's sake (memory pressure): it goes
    /// back to the front of its queue, not counted as a loss, and the plugin is not told.
    func requeueLocked(_ task: TaskRecord, reason: String) {
        task.memoryRequeues += 1
        emitLocked(.taskRetried(task: task.id, reason: reason))
        task.origin = nil
        task.kind.queue.prepend(task)
    }

    /// A worker that ran out of memory counts against `oomRetries`, any other loss against
    /// `retries`.
    func taskLostLocked(_ task: TaskRecord, reason: ph_loss_reason, message: String) {
        let outOfMemory = reason == PH_LOSS_OUT_OF_MEMORY
        if outOfMemory { task.outOfMemoryLosses += 1 }
        let retriesLeft = !interrupted && (outOfMemory ? task.outOfMemoryLosses <= configuration.oomRetries
                                                       : task.attempts - task.outOfMemoryLosses - task.memoryRequeues
                                                           <= configuration.retries)
        let willRetry = retriesLeft && stop == nil
        let decision = lossDecisionLocked(task, reason, message, willRetry: willRetry)
        if decision.resolution == nil && willRetry {
            emitLocked(.taskRetried(task: task.id, reason: message))
            task.origin = nil
            task.kind.queue.prepend(task)
        } else if decision.resolution == nil && retriesLeft, let stop {
            // A retry would run it again: a stopped run runs nothing more.
            endLocked(task, .cancelled, "\(stop.rawValue): not retried after: \(message)")
        } else if outOfMemory {
            settleLocked(task, decision, otherwise: .failed, "worker ran out of memory \(task.outOfMemoryLosses) time(s); last: \(message)")
        } else if reason == PH_LOSS_EXPIRED {
            settleLocked(task, decision, otherwise: .expired, "expired after \(task.attempts) attempt(s): \(message)")
        } else {
            settleLocked(task, decision, otherwise: .failed, "worker died \(task.attempts) time(s): \(message)")
        }
    }
}
