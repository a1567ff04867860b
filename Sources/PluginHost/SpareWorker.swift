#if canImport(Glibc)
import Glibc
#endif

/// Which spare: one per plugin and worker slot.
struct SpareKey: Hashable {
    let pluginPath: String
    let slot: Int
}

/// A worker a fork server forked ahead of need for one slot (`S`, see the worker's
/// `ForkServer.swift`): a new process with clean memory that never ran a job, in its cgroup and
/// on the slot's core, its pipes ready, blocked until the master writes its name
/// (``SpareWorkerStart``). No plugin code has run in it yet: it runs `worker_init` and says hello
/// after the start message, so its first task's clock starts once it is ready, and a crash in
/// `worker_init` is a start failure, as in any worker.
struct SpareWorker {
    /// The server that forks it (a spare of a replaced server is dropped).
    let server: ForkServer
    /// The fork request's number: ``ForkServer/forked(_:)`` gives its pid.
    let sequence: UInt64
    /// The master's ends of its pipes (its own ends are closed).
    let pipes: WorkerPipes
    /// The cgroup it joins (nil where there are none).
    let cgroup: WorkerCgroup?

    /// Ends a spare that will not be used: end of file on its stdin ends it before any plugin
    /// code runs; it is reaped and its cgroup emptied.
    func drop() {
        release(pid: try? server.forked(sequence))
    }

    /// As ``drop()``, once ``ForkServer/forked(_:)`` was asked already (it answers once per
    /// request): `pid` is what it gave, nil when the fork failed or the server died.
    func release(pid: pid_t?) {
        close(pipes.input)
        close(pipes.output)
        close(pipes.errors)
        if let pid { _ = server.waitForExit(pid) }
        cgroup?.release()
    }
}
