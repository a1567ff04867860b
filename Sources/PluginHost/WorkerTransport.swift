/// How the scheduler starts workers and reaches them: the seam between the queue's rules and
/// processes.
///
/// The scheduler decides what each worker should do; a transport only carries it out: it starts a
/// worker (``spawn(_:)``) and hands back a ``WorkerLink`` that carries frames both ways, signals
/// the worker and reports how it ended. ``ProcessTransport`` spawns `plugin-worker` (or a
/// launcher such as ssh) with three pipes; tests use an in-memory transport whose workers are
/// scripted, so queue rules run without processes and without timing. A per-host agent that
/// forks workers from a warm process is another transport.
///
/// A transport is called from slot threads, one spawn per slot at a time, never with the
/// scheduler's lock held.
protocol WorkerTransport: AnyObject, Sendable {
    /// Throws when this transport could start no worker at all (a missing `plugin-worker`),
    /// checked as each kind is added, before anything runs. A transport that wraps another
    /// asks it too.
    func checkBeforeRun() throws(HostError)

    /// Called once when the run starts, before the first ``spawn(_:)`` (scheduler lock held).
    func runStarted()

    /// Starts the worker `launch` describes. The worker's first frame will be its hello.
    /// Throws a one-line reason (naming the host for a launched worker) when it cannot start.
    func spawn(_ launch: WorkerLaunch) throws(WorkerSpawnError) -> any WorkerLink

    /// Called once after every worker of the run was reaped (scheduler lock held).
    func runFinished()
    /// Called on the slot thread once the worker `launch` describes sent its hello and was given
    /// its first work (scheduler lock not held): work ahead of the slot's next start goes here,
    /// off the path to this worker's first response. Nothing by default.
    func workerGreeted(_ launch: WorkerLaunch)
}

extension WorkerTransport {
    func workerGreeted(_ launch: WorkerLaunch) {}
}

/// Why a worker could not be started, as one line for the report.
struct WorkerSpawnError: Error, Sendable, CustomStringConvertible {
    /// The reason, e.g. `plugin-worker: No such file or directory`.
    let message: String

    var description: String { message }
}
