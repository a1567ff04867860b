import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Tasks: how they enter the run (plugin pushes, outside pushes) and how each ends exactly once.
extension Scheduler {
    /// Queues tasks pushed by the plugin during the last callback; holds its broadcasts back for
    /// each worker's next request and sends its logs. Returns how many tasks it pushed.
    @discardableResult
    func absorbSideEffectsLocked(_ kind: KindState, parent: TaskRecord?, origin: WorkerState?) -> Int {
        guard kind.plugin.hasSideEffects else { return 0 }
        var unused = Outbox()
        return absorbSideEffectsLocked(kind, parent: parent, origin: origin, outbox: &unused, sendBroadcasts: false)
    }

    /// Queues tasks pushed by the plugin during the last callback; sends its broadcasts to idle
    /// workers through `outbox` (when `sendBroadcasts`) and its logs. Returns how many tasks it
    /// pushed (queued, or ended at once if the run was interrupted).
    @discardableResult
    func absorbSideEffectsLocked(_ kind: KindState, parent: TaskRecord?, origin: WorkerState?, outbox: inout Outbox,
                                 sendBroadcasts: Bool = true) -> Int {
        guard kind.plugin.hasSideEffects else { return 0 }
        let effects = kind.plugin.drainSideEffects()
        for pushed in effects.pushes {
            let isFollowUp = pushed.isFollowUp && parent != nil
            let timeout = UInt64(pushed.timeoutMilliseconds) * 1_000_000
            let task = newTaskLocked(kind, bytes: pushed.bytes, priority: pushed.priority, timeoutNanoseconds: timeout,
                                     parent: isFollowUp ? parent : nil, origin: isFollowUp ? origin : nil)
            // Keyed first, whatever happens to it, so keys stay those of an uninterrupted run.
            if keyAndDivertLocked(task, context: parent) {
                // Ended from the journal at the next dispatch.
            } else if interrupted || stop != nil {
                if started { emitQueuedLocked(task) }  // Each task is announced before it ends.
                endLocked(task, .cancelled, interrupted ? "the run was interrupted" : stop?.rawValue)
            } else {
                queueLocked(task)
            }
        }
        if !effects.broadcasts.isEmpty {
            let targets = slots.compactMap { $0 }.filter { $0.kind === kind && $0.isReachable }
            // (Broadcasts are rare; this allocation is off the per-task path.)
            for payload in effects.broadcasts where payload.count <= Frame.defaultMaximumPayload {
                for worker in targets {
                    // A busy worker reads nothing until it answers: writing now could fill its
                    // pipe and block this thread. It gets the broadcast before its next request.
                    if worker.phase == .busy || !sendBroadcasts {
                        worker.pendingBroadcasts.append(payload)
                    } else {
                        outbox.append(worker, type: .broadcast, id: 0, payload: payload)
                    }
                }
            }
        }
        for (level, message) in effects.logs {
            emitLocked(.log(source: kind.name, level: Int(level), message: message))
            // Printed after the lock is released (a stalled stderr must not stall the run).
            if level >= configuration.printedLogLevel { pendingWarnings.append("\(kind.name): \(message)") }
        }
        return effects.pushes.count
    }

    /// A new task with the next id (not queued yet).
    func newTaskLocked(_ kind: KindState, bytes: [UInt8], priority: Int32, timeoutNanoseconds: UInt64,
                               parent: TaskRecord?, origin: WorkerState?) -> TaskRecord {
        defer { nextTaskID += 1 }
        return TaskRecord(id: nextTaskID, kind: kind, bytes: bytes, priority: priority,
                          timeoutNanoseconds: timeoutNanoseconds, parent: parent, origin: origin)
    }

    /// Queues a task and tells the observers (tasks queued before the start are announced by
    /// ``start()``, once every observer is in place).
    func queueLocked(_ task: TaskRecord) {
        task.kind.queue.append(task)
        if started { emitQueuedLocked(task) }
    }

    func emitQueuedLocked(_ task: TaskRecord) {
        // name_of_task is a plugin call: only when watched, and as late as the observers let it be.
        guard wants(.taskProgress), !announcesQueuedLate else { return }
        emitLocked(.taskQueued(task: task.id, kind: task.kind.name, name: task.kind.plugin.name(ofTask: task.bytes),
                               parent: task.parent))
    }

    /// Sends the late `taskQueued` event of `task` (see ``HostEventCategories/taskQueuedLate``)
    /// if it was not sent yet: before its first `taskStarted`, or its `taskEnded`. Not for a task
    /// replayed from the journal, which has no queued event either when they go out as queued.
    @inline(__always)
    func announceLocked(_ task: TaskRecord) {
        guard announcesQueuedLate, !task.announced, !task.replayed else { return }
        task.announced = true
        emitLocked(.taskQueued(task: task.id, kind: task.kind.name, name: task.kind.plugin.name(ofTask: task.bytes),
                               parent: task.parent))
    }

    /// Ends a task exactly once.
    func endLocked(_ task: TaskRecord, _ outcome: TaskOutcome, _ message: String?) {
        guard !task.ended else { return }
        task.ended = true
        if !started {
            emitQueuedLocked(task)  // Ended before the run started: its queued event was not sent yet.
        }
        counts.record(outcome)
        task.kind.counts.record(outcome)
        if halt != nil { countForHaltLocked() }
        if journal != nil { journalEndLocked(task, outcome, message) }
        if configuration.collectResults {
            results.append(TaskResult(id: task.id, kind: task.kind.name, name: task.kind.plugin.name(ofTask: task.bytes),
                                      outcome: outcome, message: message, attempts: task.attempts, parent: task.parent))
        }
        guard wants(outcome.eventCategory) else { return }
        announceLocked(task)
        // A failure names its task (name_of_task is a plugin call: failures only, and only when watched).
        let name = outcome == .failed || outcome == .expired ? task.kind.plugin.name(ofTask: task.bytes) : nil
        emitLocked(.taskEnded(task: task.id, kind: task.kind.name, outcome: outcome, message: message), taskName: name)
    }

    /// Queues a task from outside the plugin (an embedding program). Returns its id, or nil if
    /// the kind is unknown or the run already ended.
    func pushLocked(kindName: String, task bytes: [UInt8], priority: Int32, timeoutNanoseconds: UInt64) -> UInt64? {
        guard !draining, !interrupted, stop == nil, let kind = kinds.first(where: { $0.name == kindName }) else { return nil }
        let task = newTaskLocked(kind, bytes: bytes, priority: priority, timeoutNanoseconds: timeoutNanoseconds,
                                 parent: nil, origin: nil)
        queueLocked(task)
        return task.id
    }

    /// Keeps the run open for outside pushes (see ``PluginRun/holdInput()``).
    func holdInputLocked() -> Bool {
        guard !draining, stop == nil else { return false }
        inputHolds += 1
        return true
    }

    /// Releases one hold; the run may end.
    func releaseInputLocked() {
        if inputHolds > 0 { inputHolds -= 1 }
    }
}
