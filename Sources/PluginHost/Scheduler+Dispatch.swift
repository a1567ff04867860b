import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Dispatch and matching: which idle worker takes which queued task, and which kind needs a new worker.
extension Scheduler {
    /// Matches idle workers with queued tasks, pulls lazy input, wakes slots that should spawn,
    /// fails tasks no worker can ever take, and notices the end of the run.
    func dispatchLocked() -> Outbox {
        var outbox = Outbox()
        dispatchLocked(into: &outbox)
        return outbox
    }

    /// ``dispatchLocked()`` adding its frames to `outbox`.
    func dispatchLocked(into outbox: inout Outbox) {
        defer {
            if !pendingWarnings.isEmpty {
                outbox.warnings(pendingWarnings, to: stderrHandler)
                pendingWarnings.removeAll()
            }
        }
        guard started else { return }
        // Local snapshots (nothing here adds or removes a slot or a kind): iterating them needs no
        // retain per element, as iterating the properties would.
        let slots = self.slots, kinds = self.kinds
        var rounds = 0
        repeat {
            rounds += 1
            // Before anything starts: a halt (rule "soon") lets no other task begin.
            if haltDue { applyHaltIfDueLocked() }
            var queued = 0
            for kind in kinds where !kind.replays.isEmpty {
                queued += replayLocked(kind)
            }
            for kind in kinds where !kind.inputExhausted {
                queued += pullIfNeededLocked(kind)
            }
            let endedBefore = counts.total
            for case let worker? in slots where worker.canTakeWork {
                assignLocked(worker, outbox: &outbox)
            }
            // Tasks that ended without running (obsolete) may have emptied a queue whose kind
            // still has input to pull: go round again, or nothing would ever pull it.
            var changed = queued > 0 || (counts.total != endedBefore && kinds.contains { !$0.inputExhausted })
            for kind in kinds where !kind.queue.isEmpty {
                if kind.spawnFailure != nil {
                    failUnstartableLocked(kind)
                    changed = true
                } else if failOrphansLocked(kind) {
                    changed = true
                }
            }
            // Pulls and loss callbacks may queue tasks that idle workers can take at once.
            if !changed { break }
        } while rounds < 64
        if haltDue { applyHaltIfDueLocked() }
        // A kind short of workers gets an empty slot, or else an idle worker's slot: with neither
        // (every worker busy, the steady state of a persistent pool) there is nothing to decide.
        // (A dropped host's empty slots never spawn again: they do not count.)
        let hasEmptySlot = slots.indices.contains { slots[$0] == nil && hosts[slotHosts[$0]].health.dropped == nil }
        if hasEmptySlot || slots.contains(where: { $0?.canTakeWork == true }),
           let kind = kindNeedingWorkerLocked() {
            if hasEmptySlot {
                lock.broadcast()
                ensureSlotThreadLocked()
            } else {
                freeSlotLocked(for: kind)
            }
        }
        checkDrainedLocked()
    }

    /// Asks a lazy kind for more input when its queue runs low; returns how many tasks came.
    func pullIfNeededLocked(_ kind: KindState) -> Int {
        guard !kind.inputExhausted, !interrupted else { return 0 }
        if kind.queue.count >= configuration.jobs {
            let slots = self.slots
            // Enough queued, unless none of it can run now (e.g. follow-ups pinned to a dead
            // worker): then more input is what lets the run go on, and end.
            for case let worker? in slots where worker.kind === kind && worker.isOccupied {
                return 0
            }
            if kind.queue.contains(limit: 64, where: { freshMatchLocked($0) }) { return 0 }
        }
        var queued = 0
        var pushed = 0
        repeat {
            let wanted = max(1, configuration.jobs * 2 - kind.queue.count)
            let more = kind.plugin.pull(max: wanted)
            pushed = absorbSideEffectsLocked(kind, parent: nil, origin: nil)
            queued += pushed
            if !more { kind.inputExhausted = true }
            // On resume, pulled tasks the journal ends are replayed here: pull on until some
            // work is queued (or the input ends), however much of the run was journaled.
            if !kind.replays.isEmpty { queued += replayLocked(kind) }
        } while journal?.ledger != nil && pushed > 0 && kind.queue.isEmpty && !kind.inputExhausted && !interrupted
        return queued
    }

    /// Offers `worker` the first queued task of its kind it matches. Returns true if it got one.
    @discardableResult
    func assignLocked(_ worker: WorkerState, outbox: inout Outbox) -> Bool {
        let kind = worker.kind
        while true {
            guard let task = kind.queue.removeFirst(where: { canTakeLocked(worker, $0) }) else { return false }
            switch kind.plugin.requestOfTask(worker.status, task.bytes, worker: worker.name, taskID: task.id) {
            case .obsolete:
                endLocked(task, .skipped, "request_of_task: task no longer valid")
                continue
            case .marshalError(let message):
                resolveMarshalErrorLocked(task, message: message)
                retireLocked(worker, .marshalError(message))
                return true
            case .request(let request) where request.count > Frame.defaultMaximumPayload:
                resolveMarshalErrorLocked(task, message: "request of \(request.count) bytes exceeds the frame limit of \(Frame.defaultMaximumPayload)")
                continue
            case .request(let request):
                task.attempts += 1
                worker.running = task
                worker.runningSince = monotonicNanoseconds()
                worker.phase = .busy
                announceLocked(task)
                emitLocked(.taskProgress, .taskStarted(task: task.id, worker: worker.name, attempt: task.attempts))
                let limit = task.timeoutNanoseconds > 0 ? task.timeoutNanoseconds
                    : configuration.timeout.map(nanoseconds(fromSeconds:)) ?? 0
                if limit > 0 {
                    watchdog.schedule(at: monotonicNanoseconds() &+ limit, .expire(worker: worker, taskID: task.id))
                }
                if !worker.pendingBroadcasts.isEmpty {
                    for payload in worker.pendingBroadcasts {
                        outbox.append(worker, type: .broadcast, id: 0, payload: payload)
                    }
                    worker.pendingBroadcasts.removeAll()
                }
                outbox.append(worker, type: .request, id: task.id, payload: request)
                return true
            }
        }
    }

    /// A kind that has queued work a fresh worker could take, beyond the workers starting; among
    /// several, the one with the fewest live workers, so kinds share the budget.
    func kindNeedingWorkerLocked() -> KindState? {
        guard !interrupted else { return nil }
        var best: (kind: KindState, live: Int)?
        let now = monotonicNanoseconds()
        for kind in kinds where kind.spawnFailure == nil && !kind.queue.isEmpty && kind.spawnNotBefore <= now {
            var starting = 0
            var live = 0
            for case let worker? in slots where worker.kind === kind {
                live += 1
                if worker.phase == .starting { starting += 1 }
            }
            if let best, best.live <= live { continue }
            var freshTasks = 0
            _ = kind.queue.contains(limit: starting + 64) { task in
                if freshMatchLocked(task) { freshTasks += 1 }
                return freshTasks > starting
            }
            if freshTasks > starting { best = (kind, live) }
        }
        return best?.kind
    }

    /// The worker that pushed `task` as a follow-up, if it is alive and still suits the task:
    /// the task waits for it.
    func reservingOriginLocked(_ task: TaskRecord) -> WorkerState? {
        guard let origin = task.origin, origin.isServing,
              task.kind.plugin.taskMatch(origin.status, task.bytes, worker: origin.name)
        else { return nil }
        return origin
    }

    /// One rule for "may this worker run this task now": a follow-up is offered to the worker
    /// that pushed it while that worker lives and suits it; otherwise `task_match` decides.
    func canTakeLocked(_ worker: WorkerState, _ task: TaskRecord) -> Bool {
        if task.origin != nil, let origin = reservingOriginLocked(task), origin !== worker { return false }
        return task.kind.plugin.taskMatch(worker.status, task.bytes, worker: worker.name)
    }

    func freshMatchLocked(_ task: TaskRecord) -> Bool {
        if task.origin != nil {
            if reservingOriginLocked(task) != nil { return false }
            return task.kind.plugin.taskMatch(.fresh, task.bytes)
        }
        if let cached = task.matchesFresh { return cached }
        let matches = task.kind.plugin.taskMatch(.fresh, task.bytes)
        task.matchesFresh = matches
        return matches
    }

    /// Every slot is taken but `kind` needs a worker: retire an idle worker with nothing to do.
    func freeSlotLocked(for kind: KindState) {
        for case let worker? in slots where worker.canTakeWork {
            let hasWork = worker.kind.queue.contains(limit: 64) { canTakeLocked(worker, $0) }
            if !hasWork {
                retireLocked(worker, .retired("its slot is needed by \(kind.name)"))
                return
            }
        }
    }
}
