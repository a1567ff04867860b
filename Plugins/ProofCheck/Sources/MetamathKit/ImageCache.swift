import CMetamath
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A directory of compiled database images: a run of a database compiled before (a resumed
/// run, say) copies the image from there instead of parsing the database again.
///
/// An entry is found by a hint (this code's build, the database's path, and its main file's
/// device, inode, size and modification time) and used only once verified (see
/// ``ImageCacheEntry``): it holds a copy of the database's bytes, compared byte for byte with
/// the file as it is read now (and found unchanged meanwhile), and the image, whose digest is recomputed over the sealed copy this
/// process uses. The hint alone is never trusted: a file changed in place, even to the same
/// size and time, is compiled again. A database with includes (`$[ $]`) is not cached (its
/// main file alone does not determine it). An entry is written to an unnamed file and named
/// once complete, so a run killed meanwhile leaves nothing; the ``entryLimit`` most recently
/// used entries are kept.
///
/// The directory must be private: owned by this user, with no access for group or others
/// (mode 700, as it is created when missing); any other is refused. An entry that is not a
/// regular file of this user, writable by no one else, is never read.
public struct ImageCache: Sendable {
    /// The cache directory.
    public let directory: String
    /// How many entries to keep (the least recently used go first).
    public let entryLimit: Int

    /// The cache in `directory` (created, mode 700, if missing; its parent must exist).
    public init(directory: String, entryLimit: Int = 4) {
        self.directory = directory
        self.entryLimit = max(1, entryLimit)
    }

    /// Creates the directory if missing and checks that it is private; throws one line naming
    /// it otherwise.
    func prepare() throws(DatabaseError) {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw DatabaseError(file: directory, line: 0, message: "cannot create the image cache: \(Errno(rawValue: errno))")
        }
        var status = stat()
        guard lstat(directory, &status) == 0 else {
            throw DatabaseError(file: directory, line: 0, message: "cannot use the image cache: \(Errno(rawValue: errno))")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw DatabaseError(file: directory, line: 0, message: "the image cache is not a directory")
        }
        guard status.st_uid == geteuid() else {
            throw DatabaseError(file: directory, line: 0, message: "the image cache belongs to another user")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw DatabaseError(file: directory, line: 0,
                                message: "the image cache must be private (mode 700), not mode \(String(status.st_mode & 0o777, radix: 8))")
        }
    }

    /// The entry of the database at `path` whose main file `fstat` described as `status`.
    func entry(path: String, status: stat) -> ImageCacheEntry? {
        guard let build = ImageCache.build else { return nil }
        let stamp = [build, UInt64(status.st_dev), UInt64(status.st_ino), UInt64(status.st_size),
                     UInt64(bitPattern: Int64(status.st_mtim.tv_sec)), UInt64(bitPattern: Int64(status.st_mtim.tv_nsec))]
        var hint = Digest.Stream()
        stamp.withUnsafeBytes { hint.update($0) }
        Array(path.utf8).withUnsafeBytes { hint.update($0) }
        let hex = String(hint.finish(), radix: 16)
        let name = String(repeating: "0", count: 16 - hex.count) + hex + ImageCache.suffix
        return ImageCacheEntry(file: directory + "/" + name, path: path, sourceCount: Int(status.st_size), build: build)
    }

    /// What entry files are named with (after the hint's digest).
    static let suffix = ".pcimage"

    /// The digest of the file that holds this code (the plugin, or the program MetamathKit is
    /// linked into): an image compiled by another build is never used. Nil when unknown.
    static let build: UInt64? = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard cm_code_path(&buffer, buffer.count) == 0 else { return nil }
        let descriptor = open(buffer, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // Read in pieces into one buffer: a whole copy would cost a page fault per page.
        let chunk = 1 << 20
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { bytes.deallocate() }
        var digest = Digest.Stream()
        while true {
            let count = retryingOnInterrupt { read(descriptor, bytes, chunk) }
            guard count >= 0 else { return nil }
            if count == 0 { return digest.finish() }
            digest.update(UnsafeRawBufferPointer(start: bytes, count: count))
        }
    }()

    /// Removes the least recently used entries beyond ``entryLimit``.
    func evict() {
        guard let stream = opendir(directory) else { return }
        var entries: [(name: String, used: Int)] = []
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasSuffix(ImageCache.suffix) else { continue }
            var status = stat()
            guard fstatat(dirfd(stream), name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            entries.append((name, status.st_mtim.tv_sec * 1_000_000_000 + status.st_mtim.tv_nsec))
        }
        closedir(stream)
        for old in entries.sorted(by: { $0.used > $1.used }).dropFirst(entryLimit) {
            unlink(directory + "/" + old.name)
        }
    }
}
