/// What a ``WorkerTransport`` needs to start one worker.
struct WorkerLaunch: Sendable {
    /// The worker's name (`kind:slot:uid`), handed to the worker and used in its stderr prefix.
    let name: String
    /// The worker slot it serves (a transport may keep each slot's next worker ready).
    let slot: Int
    /// The plugin library's path on the master.
    let pluginPath: String
    /// Where the worker runs: this machine (no launcher) or a host reached through a launcher.
    let machine: WorkerMachine
    /// Seconds between heartbeats, for a worker whose link needs them; nil for none.
    let heartbeatInterval: Double?
    /// How many heartbeat intervals of silence make the link lost.
    let heartbeatMisses: Int
    /// Where each line the worker writes to stderr goes (prefixed with its name).
    let stderrLine: @Sendable (String) -> Void
    /// How many of its last stderr lines are kept for the report of its death.
    let stderrTailLines: Int
    /// Called whenever bytes move between master and worker (either way): news from the worker,
    /// for heartbeat bookkeeping. Nil when nobody needs it.
    let onActivity: (@Sendable () -> Void)?
}
