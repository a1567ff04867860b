#if canImport(Glibc)
import Glibc
#endif

/// Owns the bytes of an image built in this process: heap memory, or a shared mapping of an
/// unlinked file that other processes can map too (see ``ImagePlacement``). Immutable once
/// built, hence shareable.
final class ImageStorage: @unchecked Sendable {
    /// The image bytes (8-byte aligned).
    let bytes: UnsafeRawBufferPointer
    /// The unlinked file whose shared mapping holds the bytes, or -1 for heap memory.
    let descriptor: Int32

    /// Heap memory for `count` bytes, to be filled before the storage is shared.
    init(allocating count: Int) {
        bytes = UnsafeRawBufferPointer(start: UnsafeMutableRawPointer.allocate(byteCount: max(count, 8), alignment: 16), count: count)
        descriptor = -1
    }

    /// A new unlinked file of `count` bytes in the first of `directories` with room for it,
    /// mapped shared, to be filled before the storage is shared. The file's blocks are
    /// allocated up front, so a full file system is an error here rather than a `SIGBUS` later.
    convenience init(fileOf count: Int, in directories: [String]) throws(DatabaseError) {
        try self.init(space: nil, count: count, in: directories)
    }

    /// Like ``init(fileOf:in:)``, in `space` (allocated earlier, see ``ImageFileReservation``)
    /// when it is given: it is shrunk or grown to `count` bytes; if it cannot grow, a new file
    /// is made. The storage owns the space's descriptor.
    init(space: ImageFileSpace?, count: Int, in directories: [String]) throws(DatabaseError) {
        let size = max(count, 8)
        var failures: [String] = []
        var space = space
        if let reserved = space {
            let failure = size > reserved.size ? posix_fallocate(reserved.descriptor, 0, off_t(size))
                : (ftruncate(reserved.descriptor, off_t(size)) == 0 ? 0 : errno)
            if failure != 0 {
                close(reserved.descriptor)
                space = nil
            }
        }
        if space == nil {
            let (allocated, reasons) = ImageStorage.allocateFile(size, in: directories)
            space = allocated
            failures = reasons
        }
        if let space {
            let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, space.descriptor, 0)
            if let address, address != MAP_FAILED {
                bytes = UnsafeRawBufferPointer(start: address, count: count)
                descriptor = space.descriptor
                return
            }
            failures.append(String(cString: strerror(errno)))
            close(space.descriptor)
        }
        throw DatabaseError(file: "", line: 0, message: "cannot write the database image (\(count) bytes): \(failures.joined(separator: "; "))")
    }

    /// A new unlinked file with `size` bytes allocated, in the first of `directories` with room
    /// for it; else nil and why each directory failed.
    static func allocateFile(_ size: Int, in directories: [String]) -> (ImageFileSpace?, [String]) {
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
            let failure = posix_fallocate(descriptor, 0, off_t(size))
            guard failure == 0 else {
                failures.append("\(directory): \(String(cString: strerror(failure)))")
                close(descriptor)
                continue
            }
            return (ImageFileSpace(descriptor: descriptor, size: size), failures)
        }
        return (nil, failures)
    }

    /// The bytes, writable, while the image is being built.
    var mutableBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(mutating: bytes.baseAddress!) }

    deinit {
        if descriptor >= 0 {
            munmap(mutableBase, max(bytes.count, 8))
            close(descriptor)
        } else {
            mutableBase.deallocate()
        }
    }
}
