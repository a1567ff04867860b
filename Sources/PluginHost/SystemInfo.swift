import CSupport

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

    /// The resolved path of the running executable.
    static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments.first ?? "" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
