import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

/// The database image as a file that workers can map, and that cannot outlive the master.
///
/// The master writes the image to a memory file (``ImagePlacement/sealedMemoryFile(fallback:)``)
/// and seals it: no process, this one included, can truncate or write it afterwards, so the
/// workers' mappings of it (opened through the master's `/proc/PID/fd/N` link) cannot fault.
/// Nothing is left behind, even when the master is killed while writing. Where memory files
/// are missing, it goes to an unlinked file in `/dev/shm` (memory) when there is room, else in
/// `$TMPDIR` or `/tmp` (a container's `/dev/shm` is often 64 MB); workers then read that file
/// instead of mapping it.
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
        return .sealedMemoryFile(fallback: directories)
    }

    /// The file of `image`, which must have been built with ``placement`` (the caller keeps
    /// the image, hence the file, alive).
    init(image: DatabaseImage) {
        descriptor = image.fileDescriptor!
        path = "/proc/\(getpid())/fd/\(descriptor)"
        digest = image.digest
    }
}
