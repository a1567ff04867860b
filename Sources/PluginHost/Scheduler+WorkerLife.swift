import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Worker life: start, handshake, heartbeats, limits, retirement and death.
extension Scheduler {
    /// Asks for a worker to end: its slot thread kills and reaps it.
    func retireLocked(_ worker: WorkerState, _ intent: WorkerState.ExitIntent) {
        if worker.exitIntent == nil { worker.exitIntent = intent }
        worker.signal(SIGKILL)
    }

    /// A worker could not be started on a remote host, or went silent there: the host backs off
    /// or is dropped by the rules of ``MachineHealth``. With no host left, every kind fails to start.
    func hostFailedLocked(_ host: WorkerMachine, message: String, workerSpawnedAt: UInt64) {
        let hasLiveWorkers = slots.contains { worker in
            guard let worker, worker.machine === host else { return false }
            return worker.isServing
        }
        let verdict = host.health.recordFailure(message, at: monotonicNanoseconds(), workerSpawnedAt: workerSpawnedAt,
                                                hasLiveWorkers: hasLiveWorkers, limit: configuration.hostFailureLimit,
                                                backOff: configuration.hostBackOff)
        switch verdict {
        case .ignored:
            return
        case .dropped:
            emitLocked(.hostDropped(host: host.name, message: message))
            pendingWarnings.append("plugin-host: warning: \(host.label) dropped from the run after "
                                   + "\(host.health.consecutiveFailures) failures in a row; last: \(message)")
            if hosts.allSatisfy({ $0.health.dropped != nil }) {
                let reason = "no worker host left; last failure: \(message)"
                for kind in kinds where kind.spawnFailure == nil { kind.spawnFailure = reason }
            }
        case .down(let seconds):
            emitLocked(.hostDown(host: host.name, message: message, seconds: seconds))
            pendingWarnings.append("plugin-host: warning: \(host.label) is down for \(seconds) s: \(message)")
        }
        lock.broadcast()
    }

    /// Called by the watchdog every heartbeat interval of a worker that uses heartbeats: sends
    /// one, or declares the worker lost when it has been silent too long.
    func heartbeatLocked(_ worker: WorkerState) {
        guard let interval = worker.heartbeatNanoseconds, worker.isServing else { return }
        let now = monotonicNanoseconds()
        let silence = now &- worker.lastHeardNanoseconds
        if silence > interval &* UInt64(max(1, configuration.heartbeatMisses)) {
            let seconds = Double(silence / 1_000_000) / 1000
            worker.exitIntent = .lost("\(worker.machine.label): \(worker.name) sent nothing for \(seconds) s "
                                      + "(heartbeats every \(Double(interval) / 1e9) s): host or link down")
            worker.signal(SIGKILL)
            return
        }
        worker.sendHeartbeat()
        watchdog.schedule(at: now &+ interval, .heartbeat(worker: worker))
    }

    /// The worker answered its handshake.
    func workerReadyLocked(_ worker: WorkerState) -> Outbox {
        worker.kind.everStarted = true
        worker.kind.consecutiveSpawnFailures = 0
        worker.machine.health.recordSuccess()
        workersStarted += 1
        worker.everStarted = true
        if worker.handshakeTimedOut && worker.exitIntent == nil {
            worker.exitIntent = .retired("killed at its handshake deadline")  // The deadline raced the hello.
        }
        emitLocked(.workerStarted(worker: worker.name, pid: worker.pid,
                                  startup: Double(monotonicNanoseconds() - worker.spawnedAt) / 1e9))
        if worker.exitIntent == nil {
            worker.phase = .idle
            if let interval = worker.heartbeatNanoseconds {
                watchdog.schedule(at: monotonicNanoseconds() &+ interval, .heartbeat(worker: worker))
            }
        } else {
            worker.signal(SIGKILL)  // Cancelled while it started.
        }
        return dispatchLocked()
    }

    /// The worker could not be started.
    func spawnFailedLocked(_ worker: WorkerState, message: String) -> Outbox {
        let kind = worker.kind
        worker.phase = .gone
        slots[worker.slot] = nil
        emitLocked(.spawnFailed(kind: kind.name, message: message))
        if worker.machine.isRemote {
            // Launched elsewhere: the host is to blame until every host has failed.
            hostFailedLocked(worker.machine, message: message, workerSpawnedAt: worker.spawnedAt)
            return dispatchLocked()
        }
        kind.consecutiveSpawnFailures += 1
        if !kind.everStarted || kind.consecutiveSpawnFailures >= 3 {
            // A set-up error (exit status 2) once a task fails for it: a plugin that runs the
            // tasks in the master instead (failUnstartableLocked) keeps the run successful.
            kind.spawnFailure = message
        } else {
            // 50 ms, then 100 ms before the third and last try.
            let delay: UInt64 = 50_000_000 << UInt64(kind.consecutiveSpawnFailures - 1)
            kind.spawnNotBefore = monotonicNanoseconds() &+ delay
        }
        returnSpareTokensLocked()
        return dispatchLocked()
    }

    /// The worker process is gone and reaped.
    func workerGoneLocked(_ worker: WorkerState, termination: WorkerTermination, stderrTail: [String]) -> Outbox {
        let everStarted = worker.everStarted
        worker.phase = .gone
        if slots[worker.slot] === worker { slots[worker.slot] = nil }  // (A released slot may hold a new worker.)
        let kind = worker.kind
        var reason: String
        var outOfMemory = false
        switch worker.exitIntent {
        case .retired(let why)?: reason = why
        case .expired?: reason = "killed: its task ran past the time limit"
        case .taskCancelled?: reason = "killed: its task was cancelled"
        case .workerCancelled?: reason = "killed: worker cancelled"
        case .marshalError(let message)?: reason = "killed after a marshal error: \(message)"
        case .shutdown?: reason = "run finished"
        case .overMemory(let why)?, .memoryPressure(let why)?:
            reason = why
        case .lost(let why)?:
            reason = why
            hostFailedLocked(worker.machine, message: why, workerSpawnedAt: worker.spawnedAt)
        case nil:
            reason = "\(worker.name) (pid \(worker.pid)) \(termination)"
            if !stderrTail.isEmpty { reason += "; last stderr: " + stderrTail.joined(separator: " | ") }
            if let limit = configuration.workerMemoryBytes,
               worker.link?.killedOutOfMemory == true
                || OutOfMemorySignature.matches(termination: termination, stderrTail: stderrTail) {
                outOfMemory = true
                workersOutOfMemory += 1
                reason = "out of memory under --worker-memory \(limit >> 20) MiB: " + reason
            }
            if worker.machine.isRemote, termination == .exited(255) || termination.isConnectionLost {
                // ssh's own failure status, or the agent's connection lost: the link, not the
                // task, broke.
                reason = "\(worker.machine.label): " + reason
                hostFailedLocked(worker.machine, message: reason, workerSpawnedAt: worker.spawnedAt)
            }
        }
        if everStarted { emitLocked(.workerEnded(worker: worker.name, reason: reason)) }
        if let task = worker.running {
            worker.running = nil
            let expired: Bool
            switch worker.exitIntent {
            case .expired?: expired = true
            default: expired = false
            }
            if case .workerCancelled? = worker.exitIntent {
                reason = "worker \(worker.name) was cancelled"
            }
            if case .memoryPressure? = worker.exitIntent, !task.ended {
                requeueLocked(task, reason: reason)
            } else if !task.ended {
                taskLostLocked(task, reason: expired ? PH_LOSS_EXPIRED : outOfMemory ? PH_LOSS_OUT_OF_MEMORY : PH_LOSS_WORKER_DIED,
                               message: reason)
            }
        } else if worker.exitIntent == nil || worker.exitIntent?.isLoss == true {
            _ = kind.plugin.taskLost(nil, reason: outOfMemory ? PH_LOSS_OUT_OF_MEMORY : PH_LOSS_WORKER_DIED, message: reason,
                                     willRetry: false)
            absorbSideEffectsLocked(kind, parent: nil, origin: nil)
        }
        returnSpareTokensLocked()
        return dispatchLocked()
    }

    /// Called by the watchdog when a task's time limit passes.
    func expireLocked(_ worker: WorkerState, taskID: UInt64) {
        guard let task = worker.running, task.id == taskID, worker.exitIntent == nil else { return }
        worker.exitIntent = .expired
        worker.signal(SIGKILL)
    }

    /// Called by the watchdog every `memoryCheckInterval` while a memory limit is set: kills each
    /// busy worker on this machine, or behind a worker agent (which reads it there every 0.1 s),
    /// whose resident memory is over `maxWorkerRSSBytes`; its task is
    /// lost as in a death (retried, then failed) with the reason naming both sizes. (Between jobs
    /// the limit recycles the worker instead: see ``responseLocked(_:frame:)``.) The `/proc`
    /// reads happen outside the lock.
    func checkWorkerMemory() {
        guard let limit = configuration.maxWorkerRSSBytes else { return }
        let busy: [(worker: WorkerState, link: any WorkerLink, task: UInt64)] = lock.withLock {
            slots.compactMap { worker in
                // (A launched worker's memory is known through its agent, which reads it there.)
                guard let worker, worker.isWorking, let task = worker.running, let link = worker.link,
                      !worker.machine.isRemote || link is AgentWorkerLink else { return nil }
                return (worker, link, task.id)
            }
        }
        // A worker still busy with the same task afterwards was not reaped meanwhile: its pid
        // was its own when read.
        let over = busy.compactMap { entry -> (WorkerState, UInt64, Int64)? in
            guard let rss = entry.link.residentMemoryBytes(), rss > Int64(limit) else { return nil }
            return (entry.worker, entry.task, rss)
        }
        lock.withLock {
            for (worker, task, rss) in over
            where worker.isWorking && worker.running?.id == task {
                worker.exitIntent = .overMemory("worker exceeded --max-worker-rss \(limit >> 20) MiB (RSS \(rss >> 20) MiB)")
                worker.signal(SIGKILL)
            }
            if report == nil {
                watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.memoryCheckInterval),
                                  .memoryCheck)
            }
        }
    }
}
