#if canImport(Glibc)
import Glibc
#endif

// Memory pressure (`--memfree`, GNU parallel's rule): no new worker while the memory available
// is below the floor; under half of it the youngest running task is killed and queued again
// (one per reading, never the only running task, whose progress would be lost for nothing).
extension Scheduler {
    /// Called at the start and by the watchdog every `memfreeCheckInterval`: reads the memory
    /// available (outside the lock) and applies the floor.
    func checkAvailableMemory() {
        guard let floor = configuration.memfreeBytes else { return }
        let available = configuration.availableMemory()
        let outbox: Outbox? = lock.withLock {
            guard report == nil else { return nil }
            if let available { applyMemoryReadingLocked(available, floor: floor) }
            watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.memfreeCheckInterval),
                              .memfreeCheck)
            return dispatchLocked()  // (Which also writes the warning.)
        }
        outbox?.deliver()
    }

    /// Applies one reading of the memory available against the floor.
    func applyMemoryReadingLocked(_ available: Int, floor: Int) {
        let wasLow = memoryLow
        memoryLow = available < floor
        if memoryLow && !warnedMemoryLow {
            warnedMemoryLow = true
            pendingWarnings.append("plugin-host: warning: \(available >> 20) MiB of memory available, below --memfree "
                                   + "\(floor >> 20) MiB: no new worker starts until there is more")
        }
        if wasLow && !memoryLow {
            lock.broadcast()  // Slots waiting to start a worker may now.
            ensureSlotThreadLocked()
        }
        if available < floor / 2 { killYoungestTaskLocked(available: available, floor: floor) }
    }

    /// Kills the worker of the task that started last, when another task runs too; its task is
    /// queued again (see ``requeueLocked(_:reason:)``).
    private func killYoungestTaskLocked(available: Int, floor: Int) {
        let busy = slots.compactMap { $0 }.filter { $0.isWorking }
        guard busy.count >= 2, let youngest = busy.max(by: { $0.runningSince < $1.runningSince }) else { return }
        youngest.exitIntent = .memoryPressure("killed for memory: \(available >> 20) MiB available, under half of --memfree "
                                              + "\(floor >> 20) MiB; its task goes back to the queue")
        youngest.signal(SIGKILL)
    }
}
