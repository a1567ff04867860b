import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// End of the run: draining idle workers, reaping, and the final report.
extension Scheduler {
    func checkDrainedLocked() {
        guard !draining, inputHolds == 0 || interrupted || stop != nil else { return }
        let slots = self.slots, kinds = self.kinds
        for kind in kinds where !kind.queue.isEmpty || !kind.inputExhausted { return }
        for case let worker? in slots where worker.isOccupied || worker.phase == .exiting {
            return
        }
        draining = true
        for case let worker? in slots where worker.phase == .idle {
            // A clean exit: the worker sees end of file and runs the plugin's worker_fini; the
            // watchdog kills it if it lingers.
            if worker.exitIntent == nil { worker.exitIntent = .shutdown }
            worker.closeInput()
            watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.killGracePeriod),
                              .kill(worker: worker))
        }
        lock.broadcast()
    }

    /// Lets `worker`, which is being killed, leave its slot before it is reaped, if it was
    /// retired on purpose with no task (the plugin said `end`, a recycling limit, the slot was
    /// needed elsewhere): it ends now (event, slot freed, dispatch) and the slot starts its next
    /// worker while a reaper thread waits for the process, instead of waiting for the kernel to
    /// tear it down (milliseconds for a worker that mapped a large file) between two one-shot
    /// jobs. Returns the dispatch's frames, or nil if the slot must reap the worker itself.
    func releaseSlotIfRetiredLocked(_ worker: WorkerState) -> Outbox? {
        guard case .retired? = worker.exitIntent, worker.running == nil else { return nil }
        reapsPending += 1
        return workerGoneLocked(worker, termination: .signalled(SIGKILL), stderrTail: [])
    }

    /// A released worker's process was reaped; the run may be over.
    func releasedWorkerReapedLocked() -> (RunReport, [@Sendable (RunReport) -> Void])? {
        reapsPending -= 1
        returnSpareTokensLocked()
        return finishIfDoneLocked()
    }

    /// A slot thread leaves; the last one (or the last reaper after it) finishes the run.
    func slotThreadExitedLocked() -> (RunReport, [@Sendable (RunReport) -> Void])? {
        liveSlotThreads -= 1
        return finishIfDoneLocked()
    }

    /// Finishes the run once no slot thread and no reaper is left.
    func finishIfDoneLocked() -> (RunReport, [@Sendable (RunReport) -> Void])? {
        guard liveSlotThreads == 0, reapsPending == 0, self.report == nil else { return nil }
        watchdog.stop()
        reapers.stop()
        transport.runFinished()
        var reports: [(String, String)] = []
        var pluginStatus: Int32?
        for kind in kinds {
            let (text, status) = kind.plugin.finish(summary: kind.counts)
            reports.append((kind.name, text))
            if let status, status != 0 { pluginStatus = max(pluginStatus ?? 0, status) }
        }
        callMonitor.stop()
        if let journal {
            journal.writer.close()
            if let failure = journal.writer.failure { setupErrors.append(failure) }
        }
        var exit: Int32 = 0
        let cancelled = stop == .halted && !interrupted ? cancelledBeforeStop : counts.cancelled
        if counts.failed + counts.expired + cancelled > 0 { exit = 1 }
        if !setupErrors.isEmpty { exit = 2 }
        if let pluginStatus { exit = pluginStatus }
        let report = RunReport(counts: counts, countsByKind: Dictionary(kinds.map { ($0.name, $0.counts) }) { a, _ in a },
                               results: results, pluginReports: reports, setupErrors: setupErrors,
                               interrupted: interrupted, stop: stop, workersStarted: workersStarted,
                               slotThreadsStarted: slotThreadsStarted, workersOutOfMemory: workersOutOfMemory,
                               elapsed: Double(monotonicNanoseconds() - startTime) / 1e9, exitStatus: exit)
        self.report = report
        releaseJobserverLocked()
        let handlers = completionHandlers
        completionHandlers = []
        lock.broadcast()
        return (report, handlers)
    }
}
