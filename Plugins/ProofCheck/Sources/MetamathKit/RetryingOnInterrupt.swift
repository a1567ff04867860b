#if canImport(Glibc)
import Glibc
#endif

/// Runs a system call again for as long as a signal interrupts it (`EINTR`): the one place
/// MetamathKit retries.
///
/// This is a copy of `PluginProtocol.retryingOnInterrupt`, kept because a plugin module links
/// neither the host nor its protocol layer. swift-system's own retry is internal to it, and its
/// `FileDescriptor` calls throw untyped errors and keep writing after a write of zero bytes,
/// where the image writers here report `EIO`.
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
