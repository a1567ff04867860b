import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// GNU make's jobserver, as `MAKEFLAGS` names it to a recipe (`--jobserver-auth=fifo:PATH`,
/// make 4.4's default, or `--jobserver-auth=R,W`, two inherited pipe descriptors, as make 4.3
/// and `--jobserver-style=pipe` do): a pipe holding one byte per job slot of `make -jN` beyond
/// the one every recipe has. A host started by make takes a byte for every worker beyond its
/// first and writes the same byte back when that worker has ended (see `Scheduler+Jobserver`).
///
/// The host reads through a file description of its own, non-blocking (the FIFO opened again,
/// or the pipe reopened through `/proc/self/fd`), so that a read never blocks under the
/// scheduler's lock and make's own descriptors keep their flags; neither reaches a worker.
public final class MakeJobserver: @unchecked Sendable {
    /// How `MAKEFLAGS` named it: `fifo:PATH` or `R,W`.
    public let name: String
    private let reading: Int32
    private let writing: Int32
    /// A pipe that wakes ``waitUntilReadable()``: written by ``wake()``.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private init(name: String, reading: Int32, writing: Int32) throws(HostError) {
        var pipe: [Int32] = [-1, -1]
        guard csupport_pipe_cloexec(&pipe) == 0 else {
            throw .usage("cannot make a pipe for the jobserver: \(SystemError(code: errno))")
        }
        self.name = name
        self.reading = reading
        self.writing = writing
        wakeRead = pipe[0]
        wakeWrite = pipe[1]
    }

    deinit {
        for fd in Set([reading, writing, wakeRead, wakeWrite]) { close(fd) }
    }

    /// What `--jobserver-auth=` (or make 4.3's older `--jobserver-fds=`) in `makeflags` names;
    /// nil when it names none. A later option overrides an earlier one, as in make.
    static func authorization(in makeflags: String) -> String? {
        var found: String?
        for word in makeflags.split(separator: " ") {
            for prefix in ["--jobserver-auth=", "--jobserver-fds="] where word.hasPrefix(prefix) {
                found = String(word.dropFirst(prefix.count))
            }
        }
        return found
    }

    /// The jobserver `MAKEFLAGS` names (nil when it names none), or a one-line reason it cannot
    /// be used: descriptors that are not open pipes in this process (make passes them only to
    /// recipes it knows run make: `+` before the line, or `$(MAKE)` in it), a FIFO that does
    /// not open.
    public static func fromMakeflags(_ makeflags: String?) throws(HostError) -> MakeJobserver? {
        guard let makeflags, let auth = authorization(in: makeflags), !auth.isEmpty else { return nil }
        if auth.hasPrefix("fifo:") {
            let path = String(auth.dropFirst(5))
            let fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw .usage("MAKEFLAGS names the jobserver \(auth): \(SystemError(code: errno))") }
            return try MakeJobserver(name: auth, reading: fd, writing: fd)
        }
        let parts = auth.split(separator: ",")
        guard parts.count == 2, let read = Int32(parts[0]), let write = Int32(parts[1]), read >= 0, write >= 0 else {
            throw .usage("MAKEFLAGS names the jobserver '\(auth)': neither fifo:PATH nor R,W")
        }
        var inodes: [UInt] = []
        for fd in [read, write] {
            var status = stat()
            guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFIFO else {
                throw .usage("MAKEFLAGS names the jobserver pipe \(auth), but descriptor \(fd) is not an open pipe here "
                             + "(make passes it only to a recipe line that starts with '+' or runs $(MAKE))")
            }
            inodes.append(UInt(status.st_ino))
        }
        // Both ends of one pipe share its inode: two unrelated pipes are not make's.
        guard inodes[0] == inodes[1] else {
            throw .usage("MAKEFLAGS names the jobserver pipe \(auth), but descriptors \(read) and \(write) are not the two ends of one pipe")
        }
        // Descriptions of our own: make's descriptors keep their (blocking) flags.
        let reading = open("/proc/self/fd/\(read)", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        let writing = open("/proc/self/fd/\(write)", O_WRONLY | O_CLOEXEC)
        guard reading >= 0, writing >= 0 else {
            let error = SystemError(code: errno)
            if reading >= 0 { close(reading) }
            if writing >= 0 { close(writing) }
            throw .usage("cannot reopen the jobserver pipe \(auth) through /proc/self/fd: \(error)")
        }
        return try MakeJobserver(name: auth, reading: reading, writing: writing)
    }

    /// Takes one token if one is there now (never blocks); nil if none.
    func take() -> UInt8? {
        var byte: UInt8 = 0
        let count = retryingOnInterrupt { read(reading, &byte, 1) }
        return count == 1 ? byte : nil
    }

    /// Gives a token back (the byte that was taken).
    func giveBack(_ token: UInt8) {
        var byte = token
        _ = retryingOnInterrupt { write(writing, &byte, 1) }
    }

    /// Records that the host holds `count` tokens now: the crash guard gives them back if a
    /// plugin's crash ends the host (scheduler lock held).
    func holding(_ count: Int) {
        csupport_crash_jobserver_hold(writing, Int32(count))
    }

    /// Blocks until a token may be there, or ``wake()`` was called.
    func waitUntilReadable() {
        var fds = [pollfd(fd: reading, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        _ = retryingOnInterrupt { poll(&fds, 2, -1) }
        if fds[1].revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            _ = read(wakeRead, &drain, drain.count)
        }
    }

    /// Wakes ``waitUntilReadable()``.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }
}
