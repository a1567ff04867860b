import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// How the master tells a worker that ran out of memory under its limit from one that crashed.
///
/// Under the address-space limit (``WorkerAddressSpaceLimit``) a failed allocation does not kill
/// the worker: the plugin crashes on its own terms (a NULL dereference, an `abort()`, the Swift
/// runtime's trap). The worker's fatal-signal handler writes
/// ``WorkerAddressSpaceLimit/outOfMemoryLine`` when the crashing thread's `errno` is still
/// `ENOMEM`, then dies by the signal: a death by signal with that line among the last stderr
/// lines is an out-of-memory death.
enum OutOfMemorySignature {
    /// True when a worker that ended with `termination` and wrote `stderrTail` last ran out of
    /// memory.
    static func matches(termination: WorkerTermination, stderrTail: [String]) -> Bool {
        guard case .signalled = termination else { return false }
        return stderrTail.contains { $0.hasSuffix(WorkerAddressSpaceLimit.outOfMemoryLine) }
    }
}
