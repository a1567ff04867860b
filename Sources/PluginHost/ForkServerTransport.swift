import CSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Starts this machine's workers from fork servers (see ``ForkServer``), one per plugin and core
/// of pinned slots (one per plugin when slots are not pinned), started when a slot there first
/// needs a worker; workers on other machines go through ``ProcessTransport``,
/// and so do the workers of a plugin its fork server refused (one that runs threads once loaded).
///
/// Each slot keeps a spare (``SpareWorker``): once a slot's worker has sent its hello and has its
/// first work, the slot's next one is forked, placed in its cgroup and on its core, so the next
/// start is a hand-over (one write of its name) instead of a round trip to the server and a fork.
/// (Asked for only after the hello, the spare's pipes, cgroup and request stay off the path to
/// the current worker's first response.)
///
/// A server runs on its slots' core, as their workers do: each slot's lane (its thread, its
/// worker, the server forking its spare) stays on one core, so a fork neither waits for the other
/// core's lane nor moves the child to another core (measured: one server for two pinned slots
/// left a third of the cores' time idle in one-shot runs).
///
/// A forked worker is the same process a spawned one is to the rest of the host: its own pipes,
/// process group and cgroup, read by its slot thread, signalled by pid. Only its end is learned
/// from the fork server, which is its parent. A fork server that ends (killed, crashed) is
/// replaced by the next spawn; its workers died with it and are reported as killed.
final class ForkServerTransport: WorkerTransport, @unchecked Sendable {
    private let configuration: HostConfiguration
    private let processes: ProcessTransport
    private let lock = ConditionLock()
    /// Fork servers by plugin path and core (guarded by `lock`).
    private var servers: [ServerKey: ForkServer] = [:]
    /// Plugins whose fork server refused them: spawned instead (guarded by `lock`).
    private var refused: Set<String> = []
    /// Each slot's next worker, forked ahead of need (guarded by `lock`).
    private var spares: [SpareKey: SpareWorker] = [:]
    /// Servers being started, by key, for callers of the same key to wait on (guarded by `lock`).
    private var starting: [ServerKey: PendingStart] = [:]

    init(configuration: HostConfiguration) {
        self.configuration = configuration
        self.processes = ProcessTransport(configuration: configuration)
    }

    func checkBeforeRun() throws(HostError) {
        try processes.checkBeforeRun()  // the fork servers are the same executable, here
    }

    func runStarted() {
        processes.runStarted()
    }

    func spawn(_ launch: WorkerLaunch) throws(WorkerSpawnError) -> any WorkerLink {
        if launch.machine.isRemote { return try processes.spawn(launch) }
        let cpu = Self.pinnedCPU()
        guard let server = try server(for: ServerKey(pluginPath: launch.pluginPath, cpu: cpu)) else {
            return try processes.spawn(launch)
        }
        let key = SpareKey(pluginPath: launch.pluginPath, slot: launch.slot)
        if let spare = handOverSpare(key, to: launch, from: server) { return spare }
        return try fork(launch, from: server, cpu: cpu)
    }

    /// The slot's next worker is forked now, while this one works.
    func workerGreeted(_ launch: WorkerLaunch) {
        let cpu = Self.pinnedCPU()
        guard !launch.machine.isRemote,
              let server = lock.withLock({ servers[ServerKey(pluginPath: launch.pluginPath, cpu: cpu)] }),
              server.isUsable else { return }
        prepareSpare(SpareKey(pluginPath: launch.pluginPath, slot: launch.slot), from: server, cpu: cpu)
    }

    func runFinished() {
        let (stopping, dropped) = lock.withLock {
            defer {
                servers.removeAll()
                spares.removeAll()
            }
            return (Array(servers.values), Array(spares.values))
        }
        for spare in dropped { spare.drop() }
        for server in stopping { server.stop() }
        processes.runFinished()
    }

    /// Forks a worker for `launch` now (no spare was ready).
    private func fork(_ launch: WorkerLaunch, from server: ForkServer, cpu: Int32?) throws(WorkerSpawnError) -> any WorkerLink {
        let pipes: WorkerPipes
        do throws(Errno) {
            pipes = try WorkerPipes.make()
        } catch {
            throw WorkerSpawnError(message: "pipe: \(error)")
        }
        let childEnds = [pipes.childEnds.0, pipes.childEnds.1, pipes.childEnds.2]
        let cgroup = processes.cgroup?.makeWorkerGroup()
        let pid: pid_t
        do {
            pid = try server.fork(name: launch.name, cgroupPath: cgroup?.path, cpu: cpu,
                                  heartbeat: launch.heartbeatInterval, heartbeatMisses: launch.heartbeatMisses,
                                  descriptors: childEnds)
        } catch {
            pipes.closeAll()
            cgroup?.release()
            throw error
        }
        pipes.closeChildEnds()
        // (The worker joins its cgroup itself before any plugin code runs: see joinCgroup.)
        let process = WorkerProcess.forked(pid: pid, input: pipes.input, output: pipes.output, errors: pipes.errors,
                                           cgroup: cgroup, reaper: { server.waitForExit($0) })
        return PipeWorkerLink(process: process, launch: launch)
    }

    /// The slot's spare, made the worker `launch` describes by its start message; nil when there
    /// is none that can take it (dropped then): the caller forks one.
    private func handOverSpare(_ key: SpareKey, to launch: WorkerLaunch, from server: ForkServer) -> (any WorkerLink)? {
        guard let spare = lock.withLock({ spares.removeValue(forKey: key) }) else { return nil }
        let start = SpareWorkerStart(name: launch.name, heartbeat: launch.heartbeatInterval,
                                     heartbeatMisses: launch.heartbeatMisses)
        guard spare.server === server, let message = start.encoded() else {
            spare.drop()  // (Its server was replaced.)
            return nil
        }
        // (`forked` answers once per request: from here on the spare is released by its pid.)
        guard let pid = try? server.forked(spare.sequence) else {
            spare.release(pid: nil)  // (Its fork failed, or its server died.)
            return nil
        }
        guard message.withUnsafeBytes({ write(spare.pipes.input, $0.baseAddress, $0.count) }) == message.count else {
            spare.release(pid: pid)  // (It died waiting: killed from outside.)
            return nil
        }
        let process = WorkerProcess.forked(pid: pid, input: spare.pipes.input, output: spare.pipes.output,
                                           errors: spare.pipes.errors, cgroup: spare.cgroup,
                                           reaper: { server.waitForExit($0) })
        return PipeWorkerLink(process: process, launch: launch)
    }

    /// Asks `server` for the slot's next worker ahead of need (see ``SpareWorker``). Without
    /// pipes or a fork request, there is simply no spare.
    private func prepareSpare(_ key: SpareKey, from server: ForkServer, cpu: Int32?) {
        guard let pipes = try? WorkerPipes.make() else { return }
        let cgroup = processes.cgroup?.makeWorkerGroup()
        let sequence: UInt64
        do {
            sequence = try server.forkSpare(cgroupPath: cgroup?.path, cpu: cpu,
                                            descriptors: [pipes.childEnds.0, pipes.childEnds.1, pipes.childEnds.2])
        } catch {
            pipes.closeAll()
            cgroup?.release()
            return
        }
        pipes.closeChildEnds()
        let spare = SpareWorker(server: server, sequence: sequence, pipes: pipes, cgroup: cgroup)
        lock.withLock { spares.updateValue(spare, forKey: key) }?.drop()
    }

    /// The one CPU the calling slot thread is pinned to, if it is pinned: a spawned worker would
    /// inherit it (see HostConfiguration.pinsSlotsToCores), so a forked one is put there too.
    private static func pinnedCPU() -> Int32? {
        var cpus = [Int32](repeating: 0, count: 2)
        return csupport_allowed_cpus(&cpus, 2) == 1 ? cpus[0] : nil
    }

    /// The usable fork server of `key`, started now if there is none, from the calling slot thread
    /// (it inherits the thread's core); nil when a server refused the plugin (it runs threads once
    /// loaded, or does not load): its workers are spawned. A start runs outside `lock`: slots of
    /// other cores start theirs at the same time and hand over their spares meanwhile; callers
    /// for the same key wait for it.
    private func server(for key: ServerKey) throws(WorkerSpawnError) -> ForkServer? {
        let pluginPath = key.pluginPath
        lock.lock()
        while true {
            if refused.contains(pluginPath) {
                lock.unlock()
                return nil
            }
            if let server = servers[key] {
                if server.isUsable {
                    lock.unlock()
                    return server
                }
                server.stop()
                servers[key] = nil
            }
            guard let pending = starting[key] else { break }
            lock.unlock()
            // (Then look again: it is in `servers`, or refused; a failure is this caller's too.)
            if case .failure(.failed(let failure)) = pending.wait() { throw failure }
            lock.lock()
        }
        let pending = PendingStart()
        starting[key] = pending
        let cgroup = processes.cgroup?.makeWorkerGroup()
        let addressSpaceLimit = processes.addressSpaceLimit
        lock.unlock()
        let result: Result<ForkServer, ForkServer.StartFailure>
        do throws(ForkServer.StartFailure) {
            result = .success(try ForkServer.start(executable: configuration.workerExecutable, pluginPath: pluginPath,
                                                   cgroup: cgroup, addressSpaceLimit: addressSpaceLimit,
                                                   timeout: configuration.handshakeTimeout))
        } catch {
            result = .failure(error)
        }
        lock.withLock {
            starting[key] = nil
            switch result {
            case .success(let server): servers[key] = server
            case .failure(.refused): refused.insert(pluginPath)
            case .failure(.failed): break
            }
        }
        pending.finish(result)
        switch result {
        case .success(let server): return server
        case .failure(.refused): return nil
        case .failure(.failed(let failure)): throw failure
        }
    }
}

/// Which fork server: one per plugin and core (`cpu` nil: slots are not pinned, one for all).
private struct ServerKey: Hashable {
    let pluginPath: String
    let cpu: Int32?
}

/// A fork server's start in progress (see ``ForkServerTransport/server(for:)``): its outcome, once
/// it has one, for the callers that wait on it.
private final class PendingStart: @unchecked Sendable {
    private let lock = ConditionLock()
    private var result: Result<ForkServer, ForkServer.StartFailure>?

    func finish(_ outcome: Result<ForkServer, ForkServer.StartFailure>) {
        lock.withLock {
            result = outcome
            lock.broadcast()
        }
    }

    /// The start's outcome, once it has one.
    func wait() -> Result<ForkServer, ForkServer.StartFailure> {
        lock.withLock {
            while result == nil { lock.wait() }
            return result!
        }
    }
}
