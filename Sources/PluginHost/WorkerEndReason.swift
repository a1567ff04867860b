/// What a `worker-ended` reason says about the end: planned (the scheduler ended the worker:
/// one-shot, recycled, end of run) or not (a crash, an exit, a kill for a time limit or memory,
/// a lost connection). The trace and the report mark the unplanned ends as deaths.
public enum WorkerEndReason {
    /// True when `reason` (of ``HostEvent/Kind/workerEnded(worker:reason:)``) is one the
    /// scheduler gives to a worker it ends on purpose in an ordinary run.
    public static func isPlanned(_ reason: String) -> Bool {
        reason == "end" || reason == "one-shot policy" || reason == "run finished" || reason == "killed: worker cancelled"
            || reason.hasPrefix("recycled") || reason.hasPrefix("its slot is needed by")
    }
}
