import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Starts the workers of launched hosts through one worker agent per host (see
/// ``AgentConnection``): the launcher runs once per host, not once per worker, and the agent
/// forks each fresh worker from a warm fork server. This machine's workers, and hosts whose
/// launcher template names a plugin or worker (which one agent cannot stand for), go through
/// `direct`, the transport the run would use without agents.
final class AgentTransport: WorkerTransport, @unchecked Sendable {
    private let configuration: HostConfiguration
    private let direct: any WorkerTransport
    private let lock = ConditionLock()
    /// Connections by host name (guarded by `lock`; one start at a time per host).
    private var connections: [String: AgentConnection] = [:]
    private var starting: Set<String> = []
    /// SHA-256 (hex) and size of each plugin file sent to agents, by path.
    private var pluginFiles: [String: (digest: String, size: UInt64)] = [:]

    init(configuration: HostConfiguration, direct: any WorkerTransport) {
        self.configuration = configuration
        self.direct = direct
    }

    func checkBeforeRun() throws(HostError) {
        try direct.checkBeforeRun()  // this machine's workers; agents bring their own worker
    }

    func runStarted() {
        direct.runStarted()
    }

    func spawn(_ launch: WorkerLaunch) throws(WorkerSpawnError) -> any WorkerLink {
        guard let launcher = launch.machine.launcher, launcher.startsAgents else { return try direct.spawn(launch) }
        let file = try pluginFile(launch.pluginPath)
        let connection = try connection(for: launch.machine, launcher: launcher, stderrLine: launch.stderrLine)
        return try connection.spawn(launch, digest: file.digest, size: file.size,
                                    reportsMemory: configuration.maxWorkerRSSBytes != nil,
                                    timeout: configuration.handshakeTimeout)
    }

    func workerGreeted(_ launch: WorkerLaunch) {
        direct.workerGreeted(launch)  // (A no-op for workers on other machines.)
    }

    func runFinished() {
        let all: [AgentConnection] = lock.withLock {
            defer { connections.removeAll() }
            return Array(connections.values)
        }
        for connection in all { connection.stop() }
        direct.runFinished()
    }

    /// The live connection to `machine`'s agent, started now if there is none.
    private func connection(for machine: WorkerMachine, launcher: WorkerLauncher,
                            stderrLine: @escaping @Sendable (String) -> Void) throws(WorkerSpawnError) -> AgentConnection {
        let key = machine.name
        lock.lock()
        while starting.contains(key) { lock.wait() }
        if let existing = connections[key], existing.isUsable {
            lock.unlock()
            return existing
        }
        let stale = connections.removeValue(forKey: key)
        starting.insert(key)
        lock.unlock()
        stale?.stop()
        defer {
            lock.withLock {
                starting.remove(key)
                lock.broadcast()
            }
        }
        let connection = try AgentConnection.start(machine: machine, launcher: launcher,
                                                   heartbeat: configuration.heartbeat(launched: true),
                                                   heartbeatMisses: configuration.heartbeatMisses,
                                                   addressSpaceLimit: configuration.workerAddressSpaceLimit,
                                                   timeout: configuration.handshakeTimeout, stderrLine: stderrLine)
        lock.withLock { connections[key] = connection }
        return connection
    }

    /// The SHA-256 (hex) and size of the plugin file at `path`, hashed once.
    private func pluginFile(_ path: String) throws(WorkerSpawnError) -> (digest: String, size: UInt64) {
        if let known = lock.withLock({ pluginFiles[path] }) { return known }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WorkerSpawnError(message: "cannot open plugin \(path): \(SystemError.current)") }
        defer { close(descriptor) }
        guard let (digest, size) = SHA256Hasher.digest(ofFile: descriptor) else {
            throw WorkerSpawnError(message: "cannot read plugin \(path)")
        }
        let file = (BlobReference.hex(digest), size)
        lock.withLock { pluginFiles[path] = file }
        return file
    }
}
