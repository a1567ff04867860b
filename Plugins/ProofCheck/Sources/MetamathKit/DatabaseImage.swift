import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The image bytes: header (magic, format version, byte length, digest) + sections.
///
/// Symbols are interned, statements are `Int32` arrays, and each theorem carries everything
/// verification needs (see ``ImageLayout``). Value semantics: copies share one immutable buffer.
public struct DatabaseImage: Sendable {
    let storage: ImageStorage

    init(storage: ImageStorage) {
        self.storage = storage
    }

    /// A hash of the content, stable across runs (what a worker holding this image is competent for).
    public var digest: UInt64 {
        UInt64(littleEndian: storage.bytes.baseAddress!.load(fromByteOffset: 24, as: UInt64.self))
    }

    /// The open descriptor of the unlinked file holding the image, when it was built in one
    /// (``ImagePlacement/unlinkedFile(directories:)``); valid while the image exists.
    public var fileDescriptor: Int32? { storage.descriptor >= 0 ? storage.descriptor : nil }

    /// The image's size in bytes.
    public var byteCount: Int { storage.bytes.count }

    /// Writes the image to a file (for workers to map). Atomic: writes a temporary file beside
    /// `path` (created exclusively, never through a symbolic link), then renames it.
    public func write(to path: String) throws(DatabaseError) {
        let temporary = "\(path).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DatabaseError(file: path, line: 0, message: "cannot write the image: \(Errno(rawValue: errno))")
        }
        if let failure = write(toDescriptor: descriptor) {
            close(descriptor)
            unlink(temporary)
            throw DatabaseError(file: path, line: 0, message: "cannot write the image: \(Errno(rawValue: failure))")
        }
        guard close(descriptor) == 0 else {
            let reason = Errno(rawValue: errno).description
            unlink(temporary)
            throw DatabaseError(file: path, line: 0, message: "cannot write the image: \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = Errno(rawValue: errno).description
            unlink(temporary)
            throw DatabaseError(file: path, line: 0, message: "cannot write the image: \(reason)")
        }
    }

    /// Writes every byte of the image to an open file descriptor (not closed).
    ///
    /// - Returns: `nil` on success, else the `errno` of the failed write.
    public func write(toDescriptor descriptor: Int32) -> Int32? {
        var written = 0
        let bytes = storage.bytes
        while written < bytes.count {
            let count = retryingOnInterrupt { Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written) }
            guard count > 0 else { return count == 0 ? EIO : errno }
            written += count
        }
        return nil
    }

    /// Runs `body` on the image bytes.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(storage.bytes)
    }
}
