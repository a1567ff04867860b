#if canImport(Glibc)
import Glibc
#endif

/// Starts each worker as a process: `plugin-worker` on this machine, or the configured launcher
/// (ssh, srun, …) for a host of the hosts file, with its stdin, stdout and stderr as pipes.
///
/// On this machine each worker gets its own cgroup under the run's (where one can be made), so
/// a SIGKILL reaches everything it started and its end sweeps what it left.
final class ProcessTransport: WorkerTransport, @unchecked Sendable {
    private let configuration: HostConfiguration
    /// The run's cgroup: made by ``runStarted()`` (scheduler lock held, before any spawn),
    /// removed by ``runFinished()``.
    private(set) var cgroup: RunCgroup?

    init(configuration: HostConfiguration) {
        self.configuration = configuration
    }

    func checkBeforeRun() throws(HostError) {
        if configuration.spawnsWorkersHere { try configuration.checkWorkerExecutable() }
    }

    func runStarted() {
        cgroup = configuration.usesWorkerCgroups ? RunCgroup.make(memoryLimit: configuration.workerAddressSpaceLimit) : nil
    }

    /// The address-space limit workers set on themselves: `--worker-memory` where the run's
    /// cgroups cannot hold it as `memory.max` (nil: none, or the cgroups hold it).
    var addressSpaceLimit: UInt64? {
        cgroup?.memoryLimit != nil ? nil : configuration.workerAddressSpaceLimit
    }

    func spawn(_ launch: WorkerLaunch) throws(WorkerSpawnError) -> any WorkerLink {
        let (executable, arguments) = command(for: launch)
        let process: WorkerProcess
        do {
            process = try WorkerProcess.spawn(executable: executable, arguments: arguments,
                                              cgroup: cgroup?.makeWorkerGroup(),
                                              addressSpaceLimit: launch.machine.launcher == nil ? addressSpaceLimit : nil)
        } catch {
            throw WorkerSpawnError(message: "\(launch.machine.messagePrefix)\(executable): \(error)")
        }
        return PipeWorkerLink(process: process, launch: launch)
    }

    func runFinished() {
        cgroup?.remove()  // Every worker was reaped: this only sweeps what a failed removal left.
    }

    /// The program and arguments that start the worker: `plugin-worker` here, or the launcher.
    private func command(for launch: WorkerLaunch) -> (String, [String]) {
        var options: [String] = []
        if let interval = launch.heartbeatInterval {
            options += ["--heartbeat", String(interval), "--heartbeat-misses", String(launch.heartbeatMisses)]
        }
        if let launcher = launch.machine.launcher {
            let argv = launcher.command(host: launch.machine.name, pluginPath: launch.pluginPath, workerName: launch.name,
                                        workerOptions: options)
            return (argv[0], Array(argv.dropFirst()))
        }
        return (configuration.workerExecutable,
                ["--plugin", launch.pluginPath, "--name", launch.name, "--parent-pid", String(getpid())] + options)
    }
}
