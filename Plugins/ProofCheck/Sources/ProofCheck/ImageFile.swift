import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

/// The database image as a file that workers can map, and that cannot outlive the master.
///
/// The file is created with a unique name (`mkstemp`), unlinked at once and only then written
/// through its descriptor; workers open it through the master's `/proc/PID/fd/N` link. Nothing
/// is left behind, even when the master is killed while writing. It goes to `/dev/shm` (memory)
/// when there is room, else to `$TMPDIR` or `/tmp` (a container's `/dev/shm` is often 64 MB).
final class ImageFile {
    /// The path workers open.
    let path: String
    /// The image's digest.
    let digest: UInt64
    /// The open (unlinked) file.
    let descriptor: Int32

    /// Writes `image` (of the database at `databasePath`, for error messages) and keeps it open.
    init(image: DatabaseImage, databasePath: String) throws(DatabaseError) {
        var directories: [String] = []
        if access("/dev/shm", W_OK) == 0 { directories.append("/dev/shm") }
        directories.append(getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp")
        var failures: [String] = []
        for directory in directories {
            var template = Array("\(directory)/proofcheck-XXXXXX".utf8CString)
            let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard descriptor >= 0 else {
                failures.append("\(directory): \(String(cString: strerror(errno)))")
                continue
            }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            if let failure = image.write(toDescriptor: descriptor) {
                failures.append("\(directory): \(String(cString: strerror(failure)))")
                close(descriptor)
                continue
            }
            self.descriptor = descriptor
            self.path = "/proc/\(getpid())/fd/\(descriptor)"
            self.digest = image.digest
            return
        }
        throw DatabaseError(file: databasePath, line: 0,
                            message: "cannot write the database image (\(image.byteCount) bytes): \(failures.joined(separator: "; "))")
    }

    deinit { close(descriptor) }
}
