import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Responses: what a worker sends while it runs a task, and what the plugin decides about it.
extension Scheduler {
    /// One feedback frame.
    func feedbackLocked(_ worker: WorkerState, frame: ReceivedFrame) {
        guard let task = worker.running, task.id == frame.id else { return }
        worker.kind.plugin.forwardFeedback(worker: worker.name, frame.payload)
        if journal != nil { task.feedback.append(Array(frame.payload)) }
        absorbSideEffectsLocked(worker.kind, parent: task, origin: worker)
        emitLocked(.feedback, .feedback(worker: worker.name, task: task.id, bytes: frame.payload.count))
    }

    /// A response frame: judge it, keep or retire the worker, dispatch again.
    func responseLocked(_ worker: WorkerState, frame: ReceivedFrame) -> Outbox {
        guard worker.exitIntent == nil else {
            return Outbox()  // A late answer from a worker already being killed: ignore it.
        }
        guard let task = worker.running, task.id == frame.id else {
            return marshalErrorLocked(worker, message: "response for task \(frame.id), which this worker was not running")
        }
        let kind = worker.kind
        // A done task's message only reaches the results and the taskEnds observers.
        let decision = kind.plugin.useResponse(worker.status, task.bytes, frame.payload, worker: worker.name, taskID: task.id,
                                               keepDoneMessage: configuration.collectResults || wants(.taskEnds))
        worker.running = nil
        worker.jobs += 1
        let stay = bindingPolicyLocked(kind, stay: decision.stay)
        if journal != nil {
            keepEvidenceLocked(task, worker: worker, response: frame.payload,
                               pinnedFollowUps: stay != nil ? kind.plugin.pendingPushCount : 0)
        }
        var outbox = Outbox()
        if let resolution = decision.resolution {
            endLocked(task, resolution.outcome, resolution.message)
        } else {
            endLocked(task, .done, nil)
        }
        absorbSideEffectsLocked(kind, parent: task, origin: stay != nil ? worker : nil, outbox: &outbox)
        if let competence = stay {
            worker.status = .old(competence: competence)
            keepLocked(worker)
        } else {
            retireLocked(worker, .retired(decision.stay == nil ? "end" : "one-shot policy"))
        }
        dispatchLocked(into: &outbox)
        return outbox
    }

    /// A task-failure frame ("ph.task-failure/1"): the plugin's verdict that the task failed.
    /// The task fails with the plugin's message and is not retried; no master callback is called
    /// (not `use_response`, `on_marshal_error` nor `on_task_lost`); the worker is kept with its
    /// status unchanged, and the failure counts as one of its jobs.
    func taskFailureLocked(_ worker: WorkerState, frame: ReceivedFrame) -> Outbox {
        guard worker.exitIntent == nil else {
            return Outbox()  // A late answer from a worker already being killed: ignore it.
        }
        guard let task = worker.running, task.id == frame.id else {
            return marshalErrorLocked(worker, message: "task failure for task \(frame.id), which this worker was not running")
        }
        worker.running = nil
        worker.jobs += 1
        endLocked(task, .failed, String(decoding: frame.payload, as: UTF8.self))
        if worker.kind.policy == .oneShot {
            retireLocked(worker, .retired("one-shot policy"))  // The operator's choice binds here too.
        } else {
            keepLocked(worker)
        }
        return dispatchLocked()
    }

    /// Keeps a worker that finished a job idle, unless it reached a recycling limit.
    private func keepLocked(_ worker: WorkerState) {
        worker.phase = .idle
        var recycle: String?
        if let limit = configuration.maxJobsPerWorker, worker.jobs >= limit {
            recycle = "recycled after \(worker.jobs) jobs"
        } else if let limit = configuration.maxWorkerRSSBytes {
            if let rss = worker.link?.residentMemoryBytes(), rss > Int64(limit) {
                recycle = "recycled: resident memory \(rss >> 20) MiB over the limit of \(limit >> 20) MiB"
            }
        }
        // Recycling waits while follow-ups pinned to this worker are queued: they need it.
        // (The scan runs only when a limit is reached, never on the ordinary path.)
        if let recycle, !worker.kind.queue.contains(where: { $0.origin === worker }) {
            retireLocked(worker, .retired(recycle))
        }
    }

    /// The operator's policy over the plugin's answer: under an explicit one-shot policy a `stay`
    /// is dropped (the worker ends, its follow-ups are not pinned to it), and the host says so
    /// once per kind. Persistent cannot turn an `end` into a stay: the plugin knows whether its
    /// worker can take another task.
    private func bindingPolicyLocked(_ kind: KindState, stay: [UInt8]?) -> [UInt8]? {
        guard stay != nil, kind.policy == .oneShot else { return stay }
        if !kind.warnedOneShotStay {
            kind.warnedOneShotStay = true
            pendingWarnings.append("plugin-host: warning: \(kind.name) answers stay, but the policy is one-shot: "
                                   + "each of its workers ends after one task")
        }
        return nil
    }

    /// The worker sent an error frame, a malformed frame, or an unexpected one.
    func marshalErrorLocked(_ worker: WorkerState, message: String) -> Outbox {
        if let task = worker.running, worker.exitIntent == nil {
            worker.running = nil
            resolveMarshalErrorLocked(task, message: message)
        }
        retireLocked(worker, .marshalError(message))
        return dispatchLocked()
    }

    func resolveMarshalErrorLocked(_ task: TaskRecord, message: String) {
        let decision = task.kind.plugin.marshalError(message, task: task.bytes, taskID: task.id)
        task.judgedWithoutResponse = true
        absorbSideEffectsLocked(task.kind, parent: task, origin: nil)
        settleLocked(task, decision, otherwise: .failed, "marshal error: \(message)")
    }
}
