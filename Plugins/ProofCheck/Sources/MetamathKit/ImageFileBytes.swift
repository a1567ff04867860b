import CMetamath

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of an image file, safe from whatever happens to the file later.
///
/// A file sealed against shrinking and writing (the memory file the master builds its image
/// in, see ``ImageSections/build(placement:reserved:)``) is mapped: nobody, the owner
/// included, can truncate or change it while it is mapped. Any other file (a copy in a blob
/// cache, an image written by ``DatabaseImage/write(to:)``, the master's fallback file when
/// the system has no memory files) is read into private memory with ``FileContents``: a
/// mapping of it would fault (`SIGBUS`) if the file were truncated meanwhile.
final class ImageFileBytes {
    /// The image bytes.
    let bytes: UnsafeRawBufferPointer
    /// Whether the file is sealed and mapped (else read).
    let isMapped: Bool
    private let contents: FileContents?

    /// Maps or reads the image file at `path` (see the type's documentation).
    init(path: String) throws(FileReadError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileReadError.current }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileReadError.current }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw FileReadError.notRegularFile }
        let size = Int(status.st_size)
        if size > 0 && cm_contents_are_sealed(descriptor) != 0,
           let address = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), address != MAP_FAILED {
            bytes = UnsafeRawBufferPointer(start: address, count: size)
            isMapped = true
            contents = nil
            return
        }
        let contents = try FileContents(descriptor: descriptor, path: path)
        bytes = contents.bytes
        isMapped = false
        self.contents = contents
    }

    deinit {
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress!), bytes.count) }
    }
}
