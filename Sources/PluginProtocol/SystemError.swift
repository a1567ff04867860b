#if canImport(Glibc)
import Glibc
#endif

/// An `errno` value from a failed system call, in the modules linked into the worker.
///
/// The host and the plugins use swift-system's `Errno`. This module and `plugin-worker` cannot:
/// swift-system's objects link the concurrency, regex and synchronization runtimes into any
/// program that contains them, and loading those cost a fresh worker about 1.6 ms on top of
/// 3.6 ms (measured with `LD_PRELOAD`), which one-shot task kinds pay per job. So this is the
/// lean twin of `Errno`, with the same text: ``description`` is `strerror`'s, as `Errno`'s is.
/// Convert at the host's edge with `Errno(rawValue: error.code)`.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The errno code.
    public let code: Int32

    /// Wraps an errno code.
    public init(code: Int32) { self.code = code }

    /// The current `errno`, as left by the last failed system call of this thread.
    public static var current: SystemError { SystemError(code: errno) }

    /// `strerror`'s text, e.g. "No such file or directory".
    public var description: String { String(cString: strerror(code)) }
}
