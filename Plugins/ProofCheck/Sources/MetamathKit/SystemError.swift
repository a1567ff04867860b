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

    /// The file changed while it was read (see ``FileContents``); the message is the whole
    /// description: "t.mm: changed while being read".
    static let changedWhileRead = SystemError(message: "changed while being read", isChange: true)

    /// Whether this is ``changedWhileRead``.
    private(set) var isChange = false

    private init(message: String, isChange: Bool) {
        self.message = message
        self.isChange = isChange
    }
}
