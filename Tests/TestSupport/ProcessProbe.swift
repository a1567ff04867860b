// Reading processes from /proc: command lines, states, parents, children; killing a worker only if the pid is still it.
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

public enum ProcessProbe {
    /// The NUL-separated command line of `pid`, or nil if it is gone.
    public static func commandLine(of pid: Int32) -> [String]? {
        guard let bytes = readFile("/proc/\(pid)/cmdline") else { return nil }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The fields of /proc/PID/stat after the parenthesised command (state, ppid, pgrp, ...),
    /// or nil if the process is gone.
    public static func statFields(of pid: Int32) -> [Substring]? {
        guard let bytes = readFile("/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// The state letter from /proc/PID/stat (R, S, Z...), or nil if gone.
    public static func state(of pid: Int32) -> Character? {
        statFields(of: pid)?.first?.first
    }

    /// The parent pid from /proc/PID/stat.
    public static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(of: pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    /// The process group from /proc/PID/stat.
    public static func processGroup(of pid: Int32) -> Int32? {
        guard let fields = statFields(of: pid), fields.count > 2 else { return nil }
        return Int32(fields[2])
    }

    /// True if `pid` is still the worker called `name` (alive or zombie). A pid that was reused by
    /// another process does not count.
    public static func isAlive(pid: Int32, name: String) -> Bool {
        if Glibc.kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let arguments = commandLine(of: pid) else { return false }
        guard let index = arguments.firstIndex(of: "--name"), index + 1 < arguments.count else {
            // Zombies have an empty command line: the pid still exists and was not reaped.
            return arguments.allSatisfy(\.isEmpty) && state(of: pid) == "Z" && parent(of: pid) == getpid()
        }
        return arguments[index + 1] == name
    }

    /// Children of `parent` whose command line contains `needle`.
    public static func children(of parent: Int32, containing needle: String) -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var found: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), self.parent(of: pid) == parent else { continue }
            if let line = commandLine(of: pid), line.contains(where: { $0.contains(needle) }) { found.append(pid) }
        }
        return found
    }

    /// Sends `signal` to `pid` only if it is the process `--name name` (a worker, or an agent
    /// `agent@HOST`): through a pidfd opened before the name is checked, so a pid reaped and
    /// reused meanwhile is never signalled (pid reuse once killed other tests' workers).
    @discardableResult
    public static func kill(worker name: String, pid: Int32, signal: Int32 = SIGKILL) -> Bool {
        guard let handle = ProcessHandle(pid: pid), let arguments = commandLine(of: pid),
              let index = arguments.firstIndex(of: "--name"), index + 1 < arguments.count,
              arguments[index + 1] == name else { return false }
        return handle.send(signal: signal)
    }

    public static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes in retryingOnInterrupt { read(fd, bytes.baseAddress, bytes.count) } }
            if count <= 0 { break }
            out.append(contentsOf: buffer[0..<count])
        }
        return out
    }
}
