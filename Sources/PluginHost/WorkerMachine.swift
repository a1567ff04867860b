/// One machine of the pool: how workers are started there, and its health.
///
/// Its name and launcher never change; ``health`` is guarded by the scheduler's lock.
final class WorkerMachine: @unchecked Sendable {
    /// The host name from the hosts file; empty for the master's own machine, or for a launcher
    /// used without a hosts file.
    let name: String
    /// Nil for the master's own machine: its workers are spawned directly.
    let launcher: WorkerLauncher?
    /// Failures in a row, back-off and dropping (scheduler lock).
    var health = MachineHealth()

    init(name: String, launcher: WorkerLauncher?) {
        self.name = name
        self.launcher = launcher
    }

    /// True when the host's workers need heartbeats (the pipe's end of file is not enough).
    var isRemote: Bool { launcher != nil }

    /// How a message about this host's worker names it.
    var label: String { launcher == nil ? "this machine" : (name.isEmpty ? "the launcher" : "host \(name)") }

    /// "host NAME: " for a machine reached through a launcher, so a failure names it; empty here.
    var messagePrefix: String { isRemote ? "\(label): " : "" }
}
