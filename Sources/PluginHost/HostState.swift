/// One machine of the pool as the scheduler sees it: how it starts workers and how healthy it is.
///
/// A failure (a worker that could not be started there, or one that went silent) marks the host
/// down for a back-off that doubles with each consecutive failure; a success clears the count.
/// After `hostFailureLimit` consecutive failures the host is dropped for the rest of the run.
final class HostState {
    let name: String
    /// Nil for the master's own machine: its workers are spawned directly.
    let launcher: WorkerLauncher?
    var consecutiveFailures = 0
    /// No new worker here before this time (monotonic nanoseconds).
    var downUntil: UInt64 = 0
    /// Set when the host was dropped; the message says why.
    var dropped: String?
    /// When the last failure was recorded (monotonic nanoseconds): workers spawned before it
    /// that fail later belong to the same outage.
    var lastFailureAt: UInt64 = 0

    init(name: String, launcher: WorkerLauncher?) {
        self.name = name
        self.launcher = launcher
    }

    /// True when the host's workers need heartbeats (the pipe's end of file is not enough).
    var isRemote: Bool { launcher != nil }

    /// How a message about this host's worker names it.
    var label: String { launcher == nil ? "this machine" : (name.isEmpty ? "the launcher" : "host \(name)") }
}
