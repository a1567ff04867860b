import CMetamath
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Owns the bytes of an image built in this process: heap memory, or a read-only shared
/// mapping of a sealed memory file that other processes can map too (see ``ImagePlacement``),
/// or heap memory beside an unlinked file that other processes read. Immutable once built,
/// hence shareable.
final class ImageStorage: @unchecked Sendable {
    /// The image bytes (8-byte aligned).
    let bytes: UnsafeRawBufferPointer
    /// The file that holds the image for other processes, or -1 for none.
    let descriptor: Int32
    /// Whether ``bytes`` are a mapping of that file (else heap memory, or ``contents``).
    private let isMapped: Bool
    /// The file read back into memory, when ``bytes`` are its bytes.
    private let contents: FileContents?

    /// Heap memory for `count` bytes, to be filled before the storage is shared.
    init(allocating count: Int) {
        bytes = UnsafeRawBufferPointer(start: UnsafeMutableRawPointer.allocate(byteCount: max(count, 8), alignment: 16), count: count)
        descriptor = -1
        isMapped = false
        contents = nil
    }

    /// The image written to `descriptor` (a file of `count` bytes that is not sealed), read
    /// back into private memory with ``FileContents``: a mapping of it would fault if its owner
    /// truncated it (through `/proc/PID/fd/N`). The storage owns the descriptor.
    init(readingBack descriptor: Int32, count: Int) throws(DatabaseError) {
        let contents: FileContents
        do throws(FileReadError) {
            guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw FileReadError.current }
            contents = try FileContents(descriptor: descriptor, path: "/proc/self/fd/\(descriptor)")
            guard contents.bytes.count == count else { throw FileReadError.shorterThanImage }
        } catch {
            throw DatabaseError(file: "", line: 0, message: "cannot read the database image back: \(error.message)")
        }
        bytes = contents.bytes
        self.descriptor = descriptor
        self.contents = contents
        isMapped = false
    }

    /// The image written to `descriptor` (a sealed memory file of `count` bytes), mapped shared
    /// and read-only; the storage owns the descriptor.
    init(mapping descriptor: Int32, count: Int) throws(DatabaseError) {
        let address = mmap(nil, max(count, 8), PROT_READ, MAP_SHARED, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw DatabaseError(file: "", line: 0, message: "cannot map the database image: \(Errno(rawValue: errno))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: count)
        self.descriptor = descriptor
        isMapped = true
        contents = nil
    }

    /// A new, empty file in `directory`, unlinked at once (so nothing is left behind when the
    /// process dies) and closed on exec; the caller owns the descriptor.
    static func createUnlinkedFile(in directory: String) throws(DatabaseError) -> Int32 {
        var template = Array("\(directory)/proofcheck-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw DatabaseError(file: "", line: 0, message: "\(directory): \(Errno(rawValue: errno))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return descriptor
    }

    /// A new, empty memory file that can be sealed (see ``seal(_:)``), closed on exec; the
    /// caller owns the descriptor.
    static func createMemoryFile() throws(DatabaseError) -> Int32 {
        let descriptor = cm_memfd_create("proofcheck-image")
        guard descriptor >= 0 else {
            throw DatabaseError(file: "", line: 0, message: "memory file: \(Errno(rawValue: errno))")
        }
        return descriptor
    }

    /// Seals a memory file written in full: from now on nobody can truncate, grow or write
    /// it. Does nothing to another kind of file (returns false).
    static func seal(_ descriptor: Int32) -> Bool {
        cm_seal_contents(descriptor) == 0
    }

    /// The bytes of heap memory, writable while the image is being built.
    var mutableBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(mutating: bytes.baseAddress!) }

    deinit {
        if isMapped {
            munmap(mutableBase, max(bytes.count, 8))
        } else if contents == nil {
            mutableBase.deallocate()
        }
        if descriptor >= 0 { close(descriptor) }
    }
}
