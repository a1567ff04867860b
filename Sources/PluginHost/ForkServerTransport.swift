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

    func runStarted() {
        processes.runStarted()
    }

    func spawn(_ launch: WorkerLaunch) throws(WorkerSpawnError) -> any WorkerLink {
        if launch.machine.isRemote { return try processes.spawn(launch) }
        let server = try server(for: launch.pluginPath)
        var pipes: [[Int32]] = []
        for _ in 0..<3 {
            var pair: [Int32] = [-1, -1]
            guard csupport_pipe_cloexec(&pair) == 0 else {
                let error = errno
                for fd in pipes.joined() { close(fd) }
                throw WorkerSpawnError(message: "pipe: \(Errno(rawValue: error))")
            }
            pipes.append(pair)
        }
        // The worker's ends: it reads requests from the first pipe and writes the other two.
        let childEnds = [pipes[0][0], pipes[1][1], pipes[2][1]]
        let cgroup = processes.cgroup?.makeWorkerGroup()
        let pid: pid_t
        do {
            pid = try server.fork(name: launch.name, cgroupPath: cgroup?.path, cpu: Self.pinnedCPU(),
                                  heartbeat: launch.heartbeatInterval, heartbeatMisses: launch.heartbeatMisses,
                                  descriptors: childEnds)
        } catch {
            for fd in pipes.joined() { close(fd) }
            cgroup?.release()
            throw error
        }
        for fd in childEnds { close(fd) }
        cgroup?.add(pid)
        let process = WorkerProcess.forked(pid: pid, input: pipes[0][1], output: pipes[1][0], errors: pipes[2][0],
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
                                          timeout: configuration.handshakeTimeout)
        servers[pluginPath] = server
        return server
    }
}
