#if canImport(Glibc)
import Glibc
#endif

/// A whole file read into this process's memory, checked not to have changed while it was read.
///
/// Source files are read, not memory-mapped: another process that truncates a mapped file
/// makes the next access to the lost pages fault (`SIGBUS`), and nothing can forbid that
/// truncation. A copy in private memory cannot fault; what can still happen is that the file
/// changes while it is being read, which is detected here and reported as
/// ``FileReadError/changedWhileRead``:
/// - the file is read until `read` reports its end, whatever `st_size` said (files in `/proc`
///   report 0 bytes but have content); for a file whose size was not 0, reading more or fewer
///   bytes than that size is a change;
/// - its size, modification time or status-change time differ between `fstat` before and
///   after the read (these kernels give a fine-grained time to an update that follows a
///   `stat`, so a write during the read changes them);
/// - its path names another file after the read (it was replaced).
///
/// Large buffers ask for transparent huge pages: the copy then costs one page fault per 2 MB.
final class FileContents {
    /// The bytes read; the base address is never nil, even for an empty file.
    let bytes: UnsafeRawBufferPointer
    /// The anonymous mapping that holds them.
    private let buffer: AnonymousBuffer

    /// Reads the regular file at `path`; throws the `errno` text ("No such file or directory"),
    /// "not a regular file", or ``FileReadError/changedWhileRead``.
    ///
    /// - Parameter afterFirstRead: Called once, after the first successful `read` (tests change
    ///   the file there).
    convenience init(path: String, afterFirstRead: (() -> Void)? = nil) throws(FileReadError) {
        // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; only regular
        // files are read (checked below), for which the flag changes nothing.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileReadError.current }
        defer { close(descriptor) }
        try self.init(descriptor: descriptor, path: path, afterFirstRead: afterFirstRead)
    }

    /// Reads the regular file open as `descriptor` (from its current offset, normally 0),
    /// opened from `path`; the caller keeps the descriptor.
    init(descriptor: Int32, path: String, afterFirstRead: (() -> Void)? = nil) throws(FileReadError) {
        var before = stat()
        guard fstat(descriptor, &before) == 0 else { throw FileReadError.current }
        guard (before.st_mode & S_IFMT) == S_IFREG else { throw FileReadError.notRegularFile }
        let size = Int(before.st_size)
        // One byte more than the size: reading it means the file grew.
        var buffer = try AnonymousBuffer(capacity: size > 0 ? size + 1 : 1 << 16)
        var count = 0
        var notified = afterFirstRead == nil
        while true {
            if count == buffer.capacity {
                if size > 0 { break }  // Longer than its size: a change (found below).
                buffer = try buffer.grown(keeping: count)
            }
            let got = retryingOnInterrupt { read(descriptor, buffer.base + count, buffer.capacity - count) }
            if got < 0 { throw FileReadError.current }
            if got == 0 { break }
            count += got
            if !notified {
                notified = true
                afterFirstRead?()
            }
        }
        if try FileContents.changed(descriptor, path: path, since: before) || (size > 0 && count != size) {
            throw FileReadError.changedWhileRead
        }
        self.buffer = buffer
        bytes = UnsafeRawBufferPointer(start: buffer.base, count: count)
    }

    /// Whether the file open as `descriptor` from `path` changed since `fstat` gave `before`:
    /// another size, modification or status-change time, or its path names another file now.
    static func changed(_ descriptor: Int32, path: String, since before: stat) throws(FileReadError) -> Bool {
        var after = stat()
        guard fstat(descriptor, &after) == 0 else { throw FileReadError.current }
        var named = stat()
        let replaced = stat(path, &named) == 0 && (named.st_ino != before.st_ino || named.st_dev != before.st_dev)
        return replaced || after.st_size != before.st_size
            || after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec
            || after.st_ctim.tv_sec != before.st_ctim.tv_sec || after.st_ctim.tv_nsec != before.st_ctim.tv_nsec
    }
}

/// Private anonymous memory of a fixed capacity, unmapped at deinit.
final class AnonymousBuffer {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private let length: Int

    /// At least `capacity` bytes (at least one page), zero-filled on first touch.
    init(capacity: Int) throws(FileReadError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let hugePage = 2 << 20
        let wanted = max(capacity, 1)
        // Rounded up to whole huge pages when it spans some: the kernel can then back it with them.
        length = wanted >= hugePage ? (wanted + hugePage - 1) & ~(hugePage - 1) : (wanted + page - 1) & ~(page - 1)
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else {
            throw FileReadError.current
        }
        if length >= hugePage { _ = madvise(address, length, MADV_HUGEPAGE) }
        base = address
        self.capacity = length
    }

    /// A buffer twice as large holding the first `count` bytes of this one.
    func grown(keeping count: Int) throws(FileReadError) -> AnonymousBuffer {
        let larger = try AnonymousBuffer(capacity: capacity * 2)
        larger.base.copyMemory(from: base, byteCount: count)
        return larger
    }

    deinit {
        munmap(base, length)
    }
}
