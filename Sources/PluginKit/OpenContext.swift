/// What the host tells a task kind's master side when a run starts.
///
/// Handed to ``TaskKind/init(arguments:context:)``. Keep ``host`` to queue more tasks later
/// (from ``TaskKind/pull(upTo:)`` or ``TaskKind/useResponse(_:for:worker:)``).
public struct OpenContext<Kind: TaskKind> {
    /// The name the task kind was invoked as (the plugin's `argv[0]`).
    public var commandName: String
    /// The effective worker policy: ``TaskKind/defaultPolicy`` unless the user overrode it.
    public var policy: WorkerPolicy
    /// How many workers the run may use at once (the user's `-j`).
    public var maxWorkers: Int
    /// The host's services for this run.
    public var host: MasterHost<Kind>

    /// Creates a context (PluginKit builds it from the ABI's open parameters).
    @inlinable
    init(commandName: String, policy: WorkerPolicy, maxWorkers: Int, host: MasterHost<Kind>) {
        self.commandName = commandName
        self.policy = policy
        self.maxWorkers = maxWorkers
        self.host = host
    }
}
