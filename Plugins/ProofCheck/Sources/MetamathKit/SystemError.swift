#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, described by its `errno` text.
struct SystemError: Error {
    /// What went wrong, e.g. "No such file or directory".
    var message: String

    init(errno code: Int32) {
        message = String(cString: strerror(code))
    }

    init(message: String) {
        self.message = message
    }
}
