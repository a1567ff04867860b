import CSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Starts this machine's workers from fork servers (see ``ForkServer``), one per plugin, started
/// when its kind first needs a worker; workers on other machines go through ``ProcessTransport``.
///
/// A forked worker is the same process a spawned one is to the rest of the host: its own pipes,
/// process group and cgroup, read by its slot thread, signalled by pid. Only its end is learned
/// from the fork server, which is its parent. A fork server that ends (killed, crashed) is
/// replaced by the next spawn; its workers died with it and are reported as killed.
final class ForkServerTransport: WorkerTransport, @unchecked Sendable {
    private let configuration: HostConfiguration
    private let processes: ProcessTransport
    private let lock = ConditionLock()
    /// Fork servers by plugin path (guarded by `lock`).
    private var servers: [String: ForkServer] = [:]

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
        let server = try server(for: launch.pluginPath)
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
            pid = try server.fork(name: launch.name, cgroupPath: cgroup?.path, cpu: Self.pinnedCPU(),
                                  heartbeat: launch.heartbeatInterval, heartbeatMisses: launch.heartbeatMisses,
                                  descriptors: childEnds)
        } catch {
            pipes.closeAll()
            cgroup?.release()
            throw error
        }
        pipes.closeChildEnds()
        cgroup?.add(pid)
        let process = WorkerProcess.forked(pid: pid, input: pipes.input, output: pipes.output, errors: pipes.errors,
                                           cgroup: cgroup, reaper: { server.waitForExit($0) })
        return PipeWorkerLink(process: process, launch: launch)
    }

    func runFinished() {
        let stopping = lock.withLock {
            defer { servers.removeAll() }
            return Array(servers.values)
        }
        for server in stopping { server.stop() }
        processes.runFinished()
    }

    /// The one CPU the calling slot thread is pinned to, if it is pinned: a spawned worker would
    /// inherit it (see HostConfiguration.pinsSlotsToCores), so a forked one is put there too.
    private static func pinnedCPU() -> Int32? {
        var cpus = [Int32](repeating: 0, count: 2)
        return csupport_allowed_cpus(&cpus, 2) == 1 ? cpus[0] : nil
    }

    /// The usable fork server of `pluginPath`, started now if there is none (one start at a time).
    private func server(for pluginPath: String) throws(WorkerSpawnError) -> ForkServer {
        lock.lock()
        defer { lock.unlock() }
        if let server = servers[pluginPath] {
            if server.isUsable { return server }
            server.stop()
            servers[pluginPath] = nil
        }
        let server = try ForkServer.start(executable: configuration.workerExecutable, pluginPath: pluginPath,
                                          cgroup: processes.cgroup?.makeWorkerGroup(),
                                          addressSpaceLimit: processes.addressSpaceLimit,
                                          timeout: configuration.handshakeTimeout)
        servers[pluginPath] = server
        return server
    }
}
