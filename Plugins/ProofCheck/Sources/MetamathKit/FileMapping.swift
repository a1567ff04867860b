#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory (or read into memory when it cannot be mapped).
///
/// The bytes stay valid for the lifetime of the object; they are unmapped in `deinit`.
final class FileMapping {
    /// The mapped bytes; the base address is never nil, even for an empty file.
    let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Maps the file at `path`; on failure throws the `errno` text ("No such file or directory").
    init(path: String) throws(SystemError) {
        // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; only regular
        // files are read (checked below), for which the flag changes nothing.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw SystemError(errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SystemError(errno: errno) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw SystemError(message: "not a regular file") }
        let size = Int(status.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16), count: 0)
            isMapped = false
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        if let address, address != MAP_FAILED {
            bytes = UnsafeRawBufferPointer(start: address, count: size)
            isMapped = true
            return
        }
        // Some file systems cannot be mapped: read the file instead.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        var done = 0
        while done < size {
            let got = read(descriptor, buffer + done, size - done)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 {
                let failure = got < 0 ? SystemError(errno: errno) : SystemError(message: "the file is shorter than its size")
                buffer.deallocate()
                throw failure
            }
            done += got
        }
        bytes = UnsafeRawBufferPointer(start: buffer, count: size)
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}
