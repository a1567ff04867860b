import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Why a file could not be read (or mapped): a failed system call, or what the file turned out
/// to be. ``message`` is the text users see after the file's name.
enum FileReadError: Error {
    /// A system call failed: "No such file or directory" (`strerror`'s text).
    case system(Errno)
    /// The path names a directory, a FIFO or a device: "not a regular file".
    case notRegularFile
    /// An image file holds fewer bytes than the image written to it: "the file is shorter than
    /// the image".
    case shorterThanImage
    /// The file changed while it was read (see ``FileContents``): "changed while being read",
    /// which is the whole description ("t.mm: changed while being read").
    case changedWhileRead

    /// The failure the current `errno` describes.
    static var current: FileReadError { .system(Errno(rawValue: errno)) }

    /// What went wrong, e.g. "No such file or directory".
    var message: String {
        switch self {
        case .system(let code): code.description
        case .notRegularFile: "not a regular file"
        case .shorterThanImage: "the file is shorter than the image"
        case .changedWhileRead: "changed while being read"
        }
    }

    /// Whether this is ``changedWhileRead``.
    var isChange: Bool {
        if case .changedWhileRead = self { return true }
        return false
    }
}
