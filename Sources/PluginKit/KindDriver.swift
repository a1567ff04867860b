/// Starts the sessions of one task kind, for the two C thunks that have no instance pointer.
///
/// Closures built in ``init(_:)``, which is inlinable so that they are compiled, and
/// specialised, in the plugin's module where the kind's type is concrete.
@usableFromInline
struct KindDriver: Sendable {
    /// Starts a run's master side.
    let openMaster: @Sendable (OpenParameters, MasterHostChannel) -> Result<MasterCallbacks, UsageError>
    /// Starts a worker.
    let startWorker: @Sendable (String) -> WorkerCallbacks

    @inlinable
    init<Kind: TaskKind>(_ kind: Kind.Type) {
        self.init(
            openMaster: { TypedMasterSession<Kind>.open($0, host: $1) },
            startWorker: { TypedWorkerSession<Kind>.start(name: $0) })
    }

    @usableFromInline
    init(
        openMaster: @escaping @Sendable (OpenParameters, MasterHostChannel) -> Result<MasterCallbacks, UsageError>,
        startWorker: @escaping @Sendable (String) -> WorkerCallbacks
    ) {
        self.openMaster = openMaster
        self.startWorker = startWorker
    }
}
