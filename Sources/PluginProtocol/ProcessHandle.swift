import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// One process, held by a pidfd (Linux 5.3 and later): a signal sent through it reaches that
/// process or, once it ended, nobody; never another process that got its pid after it was
/// reaped, as `kill(pid, …)` can.
///
/// Open it while the pid is known to be the process (an unreaped child, or checked right after
/// opening, e.g. by its command line): from then on it stays that process.
public final class ProcessHandle: Sendable {
    /// The process id it was opened with.
    public let pid: pid_t
    private let descriptor: Int32

    /// Opens a handle on the process `pid` is now; nil when there is none (or no pidfds here).
    public init?(pid: pid_t) {
        guard pid > 0 else { return nil }
        let descriptor = csupport_pidfd_open(pid)
        guard descriptor >= 0 else { return nil }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        self.pid = pid
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Sends `signal` to the process; false when it ended (`ESRCH`) or the signal was refused.
    @discardableResult
    public func send(signal: Int32) -> Bool {
        csupport_pidfd_send_signal(descriptor, signal) == 0
    }

    /// True until the process has exited (a zombie counts as exited).
    public var isRunning: Bool {
        var probe = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, 0) == 0
    }
}
