#if canImport(Glibc)
import Glibc
#endif

extension HostConfiguration {
    /// True when some workers of the run are spawned on this machine, from
    /// ``workerExecutable``: no hosts and no launcher, or a `:` line among the hosts.
    public var spawnsWorkersHere: Bool {
        hosts.isEmpty ? launcher == nil : hosts.contains { $0.isLocal }
    }

    /// Throws a usage error, `PATH: worker executable not found or not executable`, when
    /// ``workerExecutable`` is missing, a directory, or not executable by this process.
    ///
    /// ``PluginRun/addKind(_:arguments:policy:)`` checks it (when ``spawnsWorkersHere``)
    /// before it opens the kind, so a run that could start no worker here fails before any
    /// task is queued; the command line checks it first of all (it probes plugins with it).
    public func checkWorkerExecutable() throws(HostError) {
        var status = stat()
        guard stat(workerExecutable, &status) == 0, status.st_mode & S_IFMT != S_IFDIR,
              access(workerExecutable, X_OK) == 0 else {
            throw .usage("\(workerExecutable): worker executable not found or not executable")
        }
    }
}
