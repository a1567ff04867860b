import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine and this process.
enum SystemInfo {
    /// Cores online.
    static var activeProcessorCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The cores the calling thread may run on.
    static var allowedCores: [Int32] {
        var cores = [Int32](repeating: 0, count: 4096)
        let count = Int(csupport_allowed_cpus(&cores, Int32(cores.count)))
        return Array(cores.prefix(count))
    }

    /// The core the calling thread runs on now (-1 if unknown).
    static var currentCore: Int32 { csupport_current_cpu() }

    /// Restricts the calling thread, and the threads and processes it starts later, to `core`.
    @discardableResult
    static func pinCurrentThread(to core: Int32) -> Bool { csupport_pin_thread_to_cpu(core) == 0 }

    /// The lowest limit on this process's processes and threads, and where it comes from:
    /// `RLIMIT_NPROC` (soft), `kernel.threads-max`, `kernel.pid_max`, the cgroup's `pids.max`.
    static var processLimit: (value: Int, name: String) {
        var candidates: [(Int, String)] = []
        let processes = csupport_process_limit()
        if processes >= 0 { candidates.append((Int(processes), "RLIMIT_NPROC")) }
        for (path, name) in [("/proc/sys/kernel/threads-max", "kernel.threads-max"), ("/proc/sys/kernel/pid_max", "kernel.pid_max")] {
            if let value = readNumber(path) { candidates.append((value, name)) }
        }
        for path in pidsMaxFiles() {
            if let value = readNumber(path) { candidates.append((value, "\(path)")) }
        }
        return candidates.min { $0.0 < $1.0 }.map { (value: $0.0, name: $0.1) } ?? (value: 32768, name: "a default of 32768")
    }

    /// The `pids.max` files of this process's cgroups (v2 and v1 hierarchies), where they exist.
    private static func pidsMaxFiles() -> [String] {
        guard let text = readSmallFile("/proc/self/cgroup") else { return [] }
        var files: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                files.append("/sys/fs/cgroup\(fields[2])/pids.max")
                files.append("/sys/fs/cgroup/unified\(fields[2])/pids.max")
            } else if fields[1].split(separator: ",").contains("pids") {
                files.append("/sys/fs/cgroup/pids\(fields[2])/pids.max")
            }
        }
        return files
    }

    /// A small file's content (its first 64 KiB: `/proc` and cgroup files), or nil if it cannot
    /// be read.
    /// The memory available for new work without swapping: `MemAvailable` of `/proc/meminfo`,
    /// in bytes; nil where it cannot be read.
    @Sendable
    static func availableMemoryBytes() -> Int? {
        guard let text = readSmallFile("/proc/meminfo"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }) else { return nil }
        let fields = line.split(separator: " ")
        guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
        return kilobytes << 10
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { (try? Descriptor(fd).read(into: $0)) ?? -1 }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A file's first number ("max" and unreadable files give nil).
    private static func readNumber(_ path: String) -> Int? {
        readSmallFile(path).flatMap { text in text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.flatMap { Int($0) } }
    }

    /// The resolved path of the running executable.
    static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments.first ?? "" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
