#if canImport(Glibc)
import Glibc
#endif

/// Runs a system call again for as long as a signal interrupts it (`EINTR`), as swift-nio's
/// `syscall` wrapper does: the one place the host, the worker and the protocol layer retry.
///
/// - Returns: The call's result once it succeeds (not negative), or its negative result with
///   `errno` left as the failed call set it.
@inlinable
public func retryingOnInterrupt<Value: BinaryInteger>(_ call: () -> Value) -> Value {
    while true {
        let value = call()
        if value >= 0 || errno != EINTR { return value }
    }
}
