import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The blob cache's record that a cached file was hashed and matched its name: `.DIGEST.ok` beside
/// the blob `DIGEST`, one line naming the digest, the file's device, inode, size, modification
/// and status-change times (nanoseconds) as they were when it was verified, and when that
/// verification began. An open whose descriptor's `fstat` still shows exactly these does not
/// hash the file again; the stamp's own modification time is the blob's use time.
///
/// Why it is sound: any write to the file, any `utimensat`, any `chmod` sets its status-change
/// time to the current time, which no user can choose; a file renamed or planted in its place is
/// another inode. The stamp vouches only for a status-change time strictly before the hashing
/// began (read on the coarse clock the kernel stamps files with), so a change made while or after
/// the file was hashed always shows as a different time, even within one clock tick. A stamp is
/// read only in a directory that passed the cache's privacy checks, and only when it is a regular
/// file of this user; anything it cannot parse counts as no stamp. It does not stand against this
/// same user forging one (who can write the cache anyway).
struct BlobStamp {
    /// What `fstat` says of a file, as far as a stamp compares it.
    struct FileState: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: timespec, changed: timespec

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        init(device: UInt64, inode: UInt64, size: Int64, modified: timespec, changed: timespec) {
            (self.device, self.inode, self.size, self.modified, self.changed) = (device, inode, size, modified, changed)
        }

        static func == (left: FileState, right: FileState) -> Bool {
            left.device == right.device && left.inode == right.inode && left.size == right.size
                && BlobStamp.same(left.modified, right.modified) && BlobStamp.same(left.changed, right.changed)
        }
    }

    /// The verified digest, in hex as the blob's file name writes it.
    var digest: String
    var file: FileState
    /// When the hashing that verified `file` began (coarse real-time clock).
    var verifiedSince: timespec

    private static let magic = "plugin-host-blob-stamp-1"
    /// Longer than any stamp this code writes: a larger file is not one.
    private static let maximumBytes = 512

    /// The file name of the stamp of the blob named `blob` (hidden, as partial files are).
    static func name(for blob: String) -> String { "." + blob + ".ok" }

    /// The blob a stamp's file `name` is for; nil when it is not a stamp's name.
    static func blob(ofStamp name: String) -> String? {
        name.hasPrefix(".") && name.hasSuffix(".ok") && !name.hasPrefix(".partial-") ? String(name.dropFirst().dropLast(3)) : nil
    }

    /// The time the kernel would give a file changed now: the coarse real-time clock (file times
    /// are taken from it, or from a finer clock that is never behind it).
    static func now() -> timespec {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &clock)
        return clock
    }

    /// True when the file described by `info` is the one this stamp verified as `expected`:
    /// same digest, same device, inode, size and both times, and changed before it was hashed.
    func vouches(for info: stat, digest expected: [UInt8]) -> Bool {
        digest == BlobReference.hex(expected) && file == FileState(info) && Self.before(file.changed, verifiedSince)
    }

    /// The stamp at `path`, if it is a regular file of this user holding a well-formed stamp;
    /// when `refreshingUseTime`, its modification time is set to now (the blob's use time).
    static func read(_ path: String, refreshingUseTime: Bool) -> BlobStamp? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(),
              info.st_size <= maximumBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: maximumBytes + 1)
        var count = 0
        while count < bytes.count,
              case .success(let got) = bytes.withUnsafeMutableBytes({ Descriptor(descriptor).readResult(into: .init(rebasing: $0[count...])) }),
              got > 0 {
            count += got
        }
        guard count <= maximumBytes, let stamp = BlobStamp(parsing: Array(bytes[..<count])) else { return nil }
        if refreshingUseTime { _ = futimens(descriptor, nil) }
        return stamp
    }

    /// Writes this stamp to `path` whole or not at all (a private temporary file in `directory`,
    /// renamed over it). False when it could not.
    @discardableResult
    func write(to path: String, in directory: String) -> Bool {
        var template = Array("\(directory)/.partial-stamp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return false }
        let temporary = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        let failure = Array(encoded.utf8).withUnsafeBytes { Descriptor(descriptor).writeAllResult($0) }
        close(descriptor)
        guard failure == nil, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// The stamp's one line.
    var encoded: String {
        let numbers = [file.device, file.inode, UInt64(file.size)].map { String($0) }
            + [file.modified, file.changed, verifiedSince].flatMap { [String($0.tv_sec), String($0.tv_nsec)] }
        return ([Self.magic, digest] + numbers).joined(separator: " ") + "\n"
    }

    init(digest: [UInt8], file: FileState, verifiedSince: timespec) {
        self.init(digest: BlobReference.hex(digest), file: file, verifiedSince: verifiedSince)
    }

    private init(digest: String, file: FileState, verifiedSince: timespec) {
        (self.digest, self.file, self.verifiedSince) = (digest, file, verifiedSince)
    }

    /// A stamp from its line; nil for anything else.
    init?(parsing bytes: [UInt8]) {
        guard bytes.last == UInt8(ascii: "\n"), let text = String(validating: bytes.dropLast(), as: UTF8.self) else { return nil }
        let fields = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 11, fields[0] == Self.magic, fields[1].utf8.count == 64,
              let device = UInt64(fields[2]), let inode = UInt64(fields[3]), let size = Int64(fields[4]),
              let modified = Self.time(fields[5], fields[6]), let changed = Self.time(fields[7], fields[8]),
              let verifiedSince = Self.time(fields[9], fields[10]) else { return nil }
        self.init(digest: fields[1],
                  file: FileState(device: device, inode: inode, size: size, modified: modified, changed: changed),
                  verifiedSince: verifiedSince)
    }

    private static func time(_ seconds: String, _ nanoseconds: String) -> timespec? {
        guard let seconds = Int(seconds), let nanoseconds = Int(nanoseconds), (0..<1_000_000_000).contains(nanoseconds) else { return nil }
        return timespec(tv_sec: seconds, tv_nsec: nanoseconds)
    }

    private static func same(_ left: timespec, _ right: timespec) -> Bool {
        left.tv_sec == right.tv_sec && left.tv_nsec == right.tv_nsec
    }

    private static func before(_ left: timespec, _ right: timespec) -> Bool {
        (left.tv_sec, left.tv_nsec) < (right.tv_sec, right.tv_nsec)
    }
}
