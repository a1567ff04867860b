// Killing the worker of a task from a reaction.

/// A worker a reaction killed.
public struct KilledWorker: Sendable {
    public var name: String
    public var pid: Int32

    public init(name: String, pid: Int32) {
        self.name = name
        self.pid = pid
    }
}

extension EventLog {
    /// Blocks until attempt `attempt` of `task` started, then SIGKILLs its worker. Nil if that failed.
    public func blockingKillWorker(runningTask task: UInt64, attempt: Int) -> KilledWorker? {
        guard let worker = blockingWaitForStart(of: task, attempt: attempt), let pid = pid(of: worker),
              signal(worker: worker) else { return nil }
        return KilledWorker(name: worker, pid: pid)
    }
}
