import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

/// The database image as a file that workers can map, and that cannot outlive the master.
///
/// The image is written to a temporary file (on `/dev/shm` when it exists, so it stays in
/// memory), opened, and unlinked at once; workers open it through the master's
/// `/proc/PID/fd/N` link. Nothing is left behind, even when the master is killed.
final class ImageFile {
    /// The path workers open.
    let path: String
    /// The image's digest.
    let digest: UInt64
    private let descriptor: Int32

    /// Writes `image` and keeps it open.
    init(image: DatabaseImage) throws(DatabaseError) {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
        let temporary = "\(directory)/proofcheck-\(getpid())-\(image.digest).img"
        try image.write(to: temporary)
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        let openError = errno
        unlink(temporary)
        guard descriptor >= 0 else {
            throw DatabaseError(file: temporary, line: 0, message: "cannot reopen the database image: \(String(cString: strerror(openError)))")
        }
        self.descriptor = descriptor
        self.path = "/proc/\(getpid())/fd/\(descriptor)"
        self.digest = image.digest
    }

    deinit { close(descriptor) }
}
