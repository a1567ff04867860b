import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Which file a path names: its device and inode (after symbolic links) when it exists, else
/// the absolute path it would be created at. Two paths name the same file when their identities
/// are equal, whatever links or `..` lead there.
enum FileIdentity: Hashable, Sendable {
    /// An existing file.
    case inode(device: UInt64, inode: UInt64)
    /// A file that does not exist yet: its parent directory resolved, then its name.
    case future(String)

    /// The identity of an existing regular file at `path`; nil for anything else (missing,
    /// directory, device, FIFO: writing to those destroys no file's contents).
    static func ofExistingRegularFile(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return .inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The identity of standard input when it is a regular file (`< FILE`), else nil.
    static func ofStandardInput() -> FileIdentity? {
        var info = stat()
        guard fstat(0, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return .inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The identity of an output path: nil when it exists and is not a regular file (a device
    /// such as `/dev/null` or `/dev/full`, a FIFO), which any number of outputs may share.
    static func ofOutput(_ path: String) -> FileIdentity? {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFREG else { return nil }
            return .inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
        return .future(futurePath(path))
    }

    /// Whether `path`, which names no file, is where a file of the ``future(_:)`` `identity`
    /// would be created. Cheap for the common case: only a path with the same last name, or a
    /// dangling symbolic link, is resolved.
    static func path(_ path: String, wouldCreate identity: FileIdentity) -> Bool {
        guard case .future(let target) = identity else { return false }
        var info = stat()
        let isLink = lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
        guard isLink || lastName(path) == lastName(target) else { return false }
        return ofOutput(path) == identity
    }

    private static func lastName(_ path: String) -> Substring {
        path.split(separator: "/").last ?? Substring(path)
    }

    /// Where a file created at `path` would be: dangling symbolic links followed, the directory
    /// resolved with `realpath`.
    private static func futurePath(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { break }
            let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : directory(of: current) + "/" + target
        }
        let name = String(lastName(current))
        guard let resolved = realpath(directory(of: current), nil) else { return current }
        defer { free(resolved) }
        return String(cString: resolved) + "/" + name
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
