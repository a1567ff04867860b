/// Whether a machine takes new workers: failures in a row, the back-off they earn, and dropping.
///
/// A failure (a worker that could not be started there, or one that went silent) marks the host
/// down for a back-off that doubles with each failure in a row; a worker that starts there clears
/// the count. After `limit` failures in a row the host is dropped for the rest of the run, unless
/// it still has live workers. One outage counts once: a failure of a worker spawned before the
/// last recorded failure (its link went down with the others) is not counted again.
struct MachineHealth: Sendable, Equatable {
    /// Failures in a row.
    private(set) var consecutiveFailures = 0
    /// No new worker here before this time (monotonic nanoseconds).
    private(set) var downUntil: UInt64 = 0
    /// Set when the host was dropped; the message says why.
    private(set) var dropped: String?
    /// When the last failure was recorded (monotonic nanoseconds).
    private(set) var lastFailureAt: UInt64 = 0

    /// What one recorded failure did to the host.
    enum Verdict: Equatable {
        /// Already counted (the same outage) or the host is already dropped.
        case ignored
        /// Down for this many seconds.
        case down(seconds: Double)
        /// Dropped for the rest of the run.
        case dropped
    }

    /// True when a new worker may be started here at `now`.
    func acceptsWorkers(at now: UInt64) -> Bool { dropped == nil && downUntil <= now }

    /// True while the host is in a back-off (not dropped) at `now`.
    func isBackingOff(at now: UInt64) -> Bool { dropped == nil && downUntil > now }

    /// A worker started here: the failures in a row are forgiven.
    mutating func recordSuccess() { consecutiveFailures = 0 }

    /// Records a failure at `now` of a worker spawned at `workerSpawnedAt`. `hasLiveWorkers`:
    /// the host still runs other workers (it is then never dropped); `limit`: failures in a row
    /// that drop it; `backOff`: seconds of the first back-off, doubled by each further failure.
    mutating func recordFailure(_ message: String, at now: UInt64, workerSpawnedAt: UInt64,
                                hasLiveWorkers: Bool, limit: Int, backOff: Double) -> Verdict {
        guard dropped == nil, workerSpawnedAt >= lastFailureAt else { return .ignored }
        consecutiveFailures += 1
        lastFailureAt = now
        if consecutiveFailures >= limit && !hasLiveWorkers {
            dropped = message
            return .dropped
        }
        let seconds = backOff * Double(1 << min(20, consecutiveFailures - 1))
        downUntil = now &+ nanoseconds(fromSeconds: seconds)
        return .down(seconds: seconds)
    }
}
