import CSupport
import PluginABI
import PluginProtocol
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

// Slot threads: started lazily, one per slot, each serving one worker at a time.
extension Scheduler {
    /// The core a starting slot thread now running on `current` should stay on, or nil when slots
    /// are not pinned (see ``CoreAssignment``).
    func claimCoreLocked(current: Int32) -> Int32? {
        cores?.claim(preferring: current)
    }

    /// A slot with no process asks what to do: spawn a worker of some kind, or stop.
    func nextWorkerLocked(slot: Int) -> WorkerState? {
        let host = host(ofSlot: slot)
        while true {
            if draining { return nil }
            if !memoryLow, host.health.acceptsWorkers(at: monotonicNanoseconds()), kindNeedingWorkerLocked() != nil,
               !jobserverAllowsWorkerLocked {
                // Another worker needs a token from make: the token thread takes one.
                jobserverWaiters += 1
                waitingSlots.insert(slot)
                lock.broadcast()
                lock.wait()
                waitingSlots.remove(slot)
                jobserverWaiters -= 1
                // Woken with nothing to start any more: a token it was given goes back.
                if draining || kindNeedingWorkerLocked() == nil { returnSpareTokensLocked() }
                continue
            }
            if !memoryLow, host.health.acceptsWorkers(at: monotonicNanoseconds()), let kind = kindNeedingWorkerLocked() {
                let uid = kind.nextUID
                kind.nextUID += 1
                let worker = WorkerState(name: "\(kind.name):\(slot):\(uid)", kind: kind, slot: slot, machine: host,
                                         heartbeat: configuration.heartbeat(launched: host.isRemote))
                slots[slot] = worker
                ensureSlotThreadLocked()  // More work than this worker: the next slot gets a thread.
                return worker
            }
            // Sleep until woken, or until a kind's spawn back-off or the host's back-off ends.
            var wake = kinds.filter { $0.spawnFailure == nil && !$0.queue.isEmpty && $0.spawnNotBefore > monotonicNanoseconds() }
                .map(\.spawnNotBefore).min()
            if host.health.isBackingOff(at: monotonicNanoseconds()) {
                wake = min(wake ?? .max, host.health.downUntil)
            }
            waitingSlots.insert(slot)
            if let wake { lock.wait(untilNanoseconds: wake) } else { lock.wait() }
            waitingSlots.remove(slot)
        }
    }

    /// Starts a slot thread when a kind needs a worker and no waiting slot thread on a usable
    /// host can spawn it: the first slot without a thread whose host takes workers now.
    func ensureSlotThreadLocked() {
        guard !draining, !interrupted, kindNeedingWorkerLocked() != nil else { return }
        let now = monotonicNanoseconds()
        func usable(_ slot: Int) -> Bool {
            let host = hosts[slotHosts[slot]]
            return host.health.acceptsWorkers(at: now) && slots[slot] == nil
        }
        if waitingSlots.contains(where: usable) { return }
        guard let slot = slots.indices.first(where: { !slotHasThread[$0] && usable($0) }) else { return }
        startSlotThreadLocked(slot)
    }

    /// Starts the thread of `slot`. Returns false if the system refused a thread: the run goes
    /// on with the slot threads it has (with a warning).
    @discardableResult
    func startSlotThreadLocked(_ slot: Int) -> Bool {
        let worker = WorkerSlot(index: slot, scheduler: self)
        let rc = startDetachedThread { worker.run() }
        guard rc == 0 else {
            if !warnedThreadFailure {
                warnedThreadFailure = true
                pendingWarnings.append("plugin-host: warning: cannot start another slot thread (\(Errno(rawValue: rc))); "
                                       + "going on with \(liveSlotThreads)")
            }
            return false
        }
        slotHasThread[slot] = true
        liveSlotThreads += 1
        slotThreadsStarted += 1
        return true
    }
}
