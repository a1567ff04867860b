// Killing the worker of a task from a reaction.

/// A worker a reaction killed.
struct KilledWorker: Sendable {
    var name: String
    var pid: Int32
}

extension EventLog {
    /// Blocks until attempt `attempt` of `task` started, then SIGKILLs its worker. Nil if that failed.
    func blockingKillWorker(runningTask task: UInt64, attempt: Int) -> KilledWorker? {
        guard let worker = blockingWaitForStart(of: task, attempt: attempt), let pid = pid(of: worker),
              ProcessProbe.kill(worker: worker, pid: pid) else { return nil }
        return KilledWorker(name: worker, pid: pid)
    }
}
