import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

/// The database image as a file that workers can map, and that cannot outlive the master.
///
/// The master writes the image to a file (``ImagePlacement/unlinkedFile(directories:)``):
/// created with a unique name, unlinked at once and only then written (with `pwrite`, see
/// MetamathKit's `ImageSink`); workers open it through the master's `/proc/PID/fd/N` link.
/// Nothing is left behind, even when the master is killed while writing. It goes to `/dev/shm`
/// (memory) when there is room, else to `$TMPDIR` or `/tmp` (a container's `/dev/shm` is often
/// 64 MB).
struct ImageFile {
    /// The path workers open.
    let path: String
    /// The image's digest.
    let digest: UInt64
    /// The open (unlinked) file.
    let descriptor: Int32

    /// Where the master builds the image.
    static var placement: ImagePlacement {
        var directories: [String] = []
        if access("/dev/shm", W_OK) == 0 { directories.append("/dev/shm") }
        directories.append(getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp")
        return .unlinkedFile(directories: directories)
    }

    /// The file of `image`, which must have been built with ``placement`` (the caller keeps
    /// the image, hence the file, alive).
    init(image: DatabaseImage) {
        descriptor = image.fileDescriptor!
        path = "/proc/\(getpid())/fd/\(descriptor)"
        digest = image.digest
    }
}
