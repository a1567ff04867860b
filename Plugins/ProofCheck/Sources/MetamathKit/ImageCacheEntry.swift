import CMetamath

#if canImport(Glibc)
import Glibc
#endif

/// One entry of an ``ImageCache``: the image compiled from a database, beside a copy of the
/// database's main file. Layout (little-endian words):
///
///     key:   magic, build, source byte count, path byte count, path (padded to 8 bytes)
///     image byte count, image digest
///     the source bytes (padded to 8 bytes)
///     the image
///
/// Loading checks, in this order: a regular file of this user that no one else may write;
/// the key equal to this database's (same build, path and size); the file's size; the source
/// copy equal, byte for byte, to the main file read now, in pieces (nothing of it is kept), and
/// that file unchanged meanwhile (as ``FileContents`` checks); the image copied (in the kernel)
/// into a new sealed memory file, whose header, section table and digest (recomputed over
/// every byte of that copy) must match. Anything else is a miss, and an entry of this user
/// that fails is removed (damaged, stale or planted).
struct ImageCacheEntry {
    /// The entry file.
    let file: String
    /// The database's path, as given (the image names its files so).
    let path: String
    /// The size of the database's main file.
    let sourceCount: Int
    /// ``ImageCache/build``.
    let build: UInt64

    private static let magic: UInt64 = 0x3145_4741_4D49_4350  // "PCIMAGE1"

    /// The key words and the path, padded.
    private var key: [UInt8] {
        var bytes: [UInt8] = []
        let path = Array(self.path.utf8)
        for word in [Self.magic, build, UInt64(sourceCount), UInt64(path.count)] {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes += path + [UInt8](repeating: 0, count: Self.padding(path.count))
        return bytes
    }

    private static func padding(_ count: Int) -> Int { ((count + 7) & ~7) - count }

    /// The verified image in a sealed memory file, or nil (a miss), for the main file open as
    /// `source` (at its start) from ``path``, which `fstat` described as `status` (read on:
    /// the caller seeks back to its start).
    func load(source: Int32, status sourceStatus: stat) -> ImageStorage? {
        let descriptor = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG,
              status.st_uid == geteuid(), status.st_mode & 0o022 == 0 else { return nil }
        let key = self.key
        var head = [UInt8](repeating: 0, count: key.count + 16)
        guard Self.read(descriptor, into: &head, at: 0), head.prefix(key.count).elementsEqual(key) else { return reject() }
        let (imageCount, digest) = head.withUnsafeBytes { raw in
            (Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: key.count, as: UInt64.self))),
             UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: key.count + 8, as: UInt64.self)))
        }
        let sourceOffset = key.count + 16
        let imageOffset = sourceOffset + sourceCount + Self.padding(sourceCount)
        guard imageCount >= ImageLayout.dataOffset, Int(status.st_size) == imageOffset + imageCount else { return reject() }
        // A helper thread has the kernel copy the image into a new memory file while this thread
        // compares the source (splitting the copy between two threads gains nothing: writes to
        // one file take turns); the file is then sealed and hashed on two threads.
        guard let memory = try? ImageStorage.createMemoryFile() else { return nil }
        let copied = HandOver<Bool>()
        let helper = HelperThread { copied.value = cm_copy_file(descriptor, Int64(imageOffset), memory, imageCount) == imageCount }
        let sameSource = sourceMatches(source, copyIn: descriptor, at: sourceOffset)
            && (try? FileContents.changed(source, path: path, since: sourceStatus)) == false
        helper.join()
        guard sameSource, copied.value == true else {
            close(memory)
            return reject()
        }
        guard let storage = Self.sealedAndVerified(memory, count: imageCount, digest: digest) else { return reject() }
        _ = futimens(descriptor, nil)  // Its use time, for eviction.
        return storage
    }

    /// Removes an entry that failed verification; nil.
    private func reject() -> ImageStorage? {
        unlink(file)
        return nil
    }

    /// Whether `source`, read from its current offset to its end, holds ``sourceCount`` bytes
    /// equal to those at `offset` of `copy`.
    private func sourceMatches(_ source: Int32, copyIn copy: Int32, at offset: Int) -> Bool {
        let chunk = 1 << 20
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: 2 * chunk, alignment: 16)
        defer { buffers.deallocate() }
        let copied = buffers + chunk
        var done = 0
        while true {
            let count = retryingOnInterrupt { Glibc.read(source, buffers, chunk) }
            guard count >= 0, done + count <= sourceCount else { return false }
            if count == 0 { return done == sourceCount }
            var got = 0
            while got < count {
                let piece = retryingOnInterrupt { pread(copy, copied + got, count - got, off_t(offset + done + got)) }
                guard piece > 0 else { return false }
                got += piece
            }
            guard memcmp(buffers, copied, count) == 0 else { return false }
            done += count
        }
    }

    /// The image of `count` bytes written to `memory`, sealed, mapped and verified (header,
    /// section table, digest over every byte); nil (`memory` closed) if anything fails.
    private static func sealedAndVerified(_ memory: Int32, count: Int, digest: UInt64) -> ImageStorage? {
        var status = stat()
        guard fstat(memory, &status) == 0, Int(status.st_size) == count, ImageStorage.seal(memory) else {
            close(memory)
            return nil
        }
        let storage: ImageStorage
        do {
            storage = try ImageStorage(mapping: memory, count: count)
        } catch {
            close(memory)
            return nil
        }
        guard let view = try? ImageView(bytes: storage.bytes), view.digest == digest,
              ImageDigest.ofInParallel(image: storage.bytes) == digest else { return nil }
        return storage
    }

    /// Writes the entry for `image`, compiled from the main file read as `source`, to an unnamed
    /// file, then names it; an entry already there stays. Failures are silent: the cache is
    /// only a shortcut.
    func store(_ image: DatabaseImage, source: FileContents, in cache: ImageCache) {
        guard source.bytes.count == sourceCount else { return }
        let descriptor = cm_open_unnamed(cache.directory)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var head = key
        for word in [UInt64(image.byteCount), image.digest] {
            withUnsafeBytes(of: word.littleEndian) { head.append(contentsOf: $0) }
        }
        let padding = [UInt8](repeating: 0, count: Self.padding(source.bytes.count))
        let written = head.withUnsafeBytes { Self.write(descriptor, $0) }
            && Self.write(descriptor, source.bytes)
            && padding.withUnsafeBytes { Self.write(descriptor, $0) }
            && image.withBytes { Self.write(descriptor, $0) }
        guard written, cm_link_unnamed(descriptor, file) == 0 else { return }
        cache.evict()
    }

    private static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = retryingOnInterrupt { Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done) }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    private static func read(_ descriptor: Int32, into bytes: inout [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeMutableBytes { buffer in
            var done = 0
            while done < buffer.count {
                let count = retryingOnInterrupt { pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done)) }
                guard count > 0 else { return false }
                done += count
            }
            return true
        }
    }
}
