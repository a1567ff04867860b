#if canImport(Glibc)
import Glibc
#endif

/// Runs a system call again for as long as a signal interrupts it (`EINTR`): the one place
/// MetamathKit retries. (A plugin module links neither the host nor its protocol layer, so it
/// keeps this copy of `PluginProtocol.retryingOnInterrupt`.)
///
/// - Returns: The call's result once it succeeds (not negative), or its negative result with
///   `errno` left as the failed call set it.
@inline(__always)
func retryingOnInterrupt<Value: BinaryInteger>(_ call: () -> Value) -> Value {
    while true {
        let value = call()
        if value >= 0 || errno != EINTR { return value }
    }
}
