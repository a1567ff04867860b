// A worker executable that is there when the run checks it and gone when a worker is spawned.
#if canImport(Glibc)
import Glibc
#endif

/// A worker executable that passes the check made as kinds are added
/// (``HostConfiguration/checkWorkerExecutable()``) and is removed before the run starts, so
/// every spawn fails with `PATH: No such file or directory`: rule 10's missing binary, as when
/// the worker is deleted under a running host.
public final class VanishingWorker: Sendable {
    private let directory = TemporaryDirectory()
    /// Where the executable is, then was.
    public let path: String

    public init() {
        path = directory.write("plugin-worker", "#!/bin/sh\nexit 1\n")
    }

    /// Removes the executable (call after the kinds were added, before the run starts).
    public func remove() {
        precondition(unlink(path) == 0, "cannot remove \(path)")
    }
}
