import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// This machine's cache of blobs fetched from masters, one file per SHA-256, shared by every
/// worker of the user on the machine and bounded in size (least recently used files go first).
///
/// A fetched blob is written to a private partial file while its digest is computed, and is
/// renamed to its digest's name only when size and digest match. A name is not trusted on its
/// own, though: every open from the cache hashes the file again, and a file whose content does
/// not match its name (damaged, or planted) is removed with a warning and fetched anew.
///
/// The cache must be private: a directory owned by this user with no access for group or others
/// (mode 700, as it is created); any other is refused with one line, and so is a relative path.
/// Directory: `$PLUGIN_HOST_BLOB_CACHE` (absolute), else `$XDG_CACHE_HOME/plugin-host/blobs`
/// (when absolute), else `$HOME/.cache/plugin-host/blobs` (when absolute); with none of these
/// there is no cache (never a guessable shared path such as `/tmp`): each blob is fetched into an
/// unnamed private temporary file (in `$TMPDIR`, else `/tmp`), deleted when the worker closes it.
/// Limit `$PLUGIN_HOST_BLOB_CACHE_MB` (default 4096).
struct BlobCache {
    /// Where fetched blobs are kept.
    enum Location: Equatable {
        /// This directory, created if missing.
        case directory(String)
        /// Nowhere: each fetch goes to an unnamed temporary file in this directory.
        case uncached(temporaryDirectory: String)
        /// The configuration is unusable: every open fails with this line.
        case refused(String)
    }

    let location: Location
    let limitBytes: UInt64

    /// The cache the environment describes (`variable` reads it; empty counts as unset).
    init(variable: (String) -> String? = BlobCache.environmentVariable) {
        func absolute(_ name: String) -> String? { variable(name).flatMap { $0.hasPrefix("/") ? $0 : nil } }
        if let explicit = variable("PLUGIN_HOST_BLOB_CACHE") {
            location = explicit.hasPrefix("/") ? .directory(explicit)
                : .refused("PLUGIN_HOST_BLOB_CACHE=\(explicit): the blob cache must be an absolute path")
        } else if let cache = absolute("XDG_CACHE_HOME") {
            location = .directory(cache + "/plugin-host/blobs")
        } else if let home = absolute("HOME") {
            location = .directory(home + "/.cache/plugin-host/blobs")
        } else {
            location = .uncached(temporaryDirectory: absolute("TMPDIR") ?? "/tmp")
        }
        let megabytes = variable("PLUGIN_HOST_BLOB_CACHE_MB").flatMap { UInt64($0) } ?? 4096
        limitBytes = megabytes << 20
    }

    /// A variable of this process's environment; nil when unset or empty.
    static func environmentVariable(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// Opens the blob with `digest` and `size`, fetching it with `fetch` (which writes the content
    /// to the descriptor it is given and returns nil, or returns why it could not) when absent.
    func open(digest: [UInt8], size: UInt64, fetch: (Int32) -> String?) -> Result<Int32, BlobFailure> {
        let directory: String
        switch location {
        case .refused(let problem):
            return .failure(BlobFailure(problem))
        case .uncached(let temporaryDirectory):
            return fetchUncached(digest: digest, size: size, into: temporaryDirectory, fetch: fetch)
        case .directory(let path):
            directory = path
        }
        if let problem = preparePrivateDirectory(directory) { return .failure(problem) }
        let name = BlobReference.hex(digest)
        let final = directory + "/" + name
        if let descriptor = openCached(final, digest: digest, size: size) { return .success(descriptor) }
        var template = Array("\(directory)/.partial-\(name.prefix(16))-XXXXXX".utf8CString)
        let partial = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard partial >= 0 else { return .failure(BlobFailure("cannot write to the blob cache \(directory): \(errnoText())")) }
        _ = fcntl(partial, F_SETFD, FD_CLOEXEC)  // (mkostemp is not in the Glibc module.)
        let partialPath = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        defer { close(partial) }
        // Verified before anyone can find it under its name.
        if let failure = fetchVerified(digest: digest, size: size, into: partial, fetch: fetch) {
            unlink(partialPath)
            return .failure(failure)
        }
        // Opened before it gets its name: another worker's eviction may unlink it at once.
        let verified = Glibc.open(partialPath, O_RDONLY | O_CLOEXEC)
        guard verified >= 0, rename(partialPath, final) == 0 else {
            if verified >= 0 { close(verified) }
            unlink(partialPath)
            return .failure(BlobFailure("cannot store blob \(name.prefix(16)) in \(directory): \(errnoText())"))
        }
        evict(keeping: name)
        BlobCache.holdInUse(verified)
        return .success(verified)
    }

    /// Fetches into `destination` and checks size and digest; nil when the content is right.
    private func fetchVerified(digest: [UInt8], size: UInt64, into destination: Int32,
                               fetch: (Int32) -> String?) -> BlobFailure? {
        if let problem = fetch(destination) { return BlobFailure(problem) }
        let name = BlobReference.hex(digest).prefix(16)
        switch SHA256Hasher.digest(ofFile: destination) {
        case .some(let actual) where actual.digest == digest && actual.size == size:
            return nil
        case .some(let actual):
            return BlobFailure("blob \(name) arrived corrupted: \(actual.size) bytes with digest "
                               + "\(BlobReference.hex(actual.digest).prefix(16)), expected \(size) bytes")
        case .none:
            return BlobFailure("cannot verify blob \(name): \(errnoText())")
        }
    }

    /// Without a cache: the blob goes to an unnamed file in `temporaryDirectory` (made with
    /// `mkstemp`, unlinked at once), read back through a read-only descriptor.
    private func fetchUncached(digest: [UInt8], size: UInt64, into temporaryDirectory: String,
                               fetch: (Int32) -> String?) -> Result<Int32, BlobFailure> {
        var template = Array("\(temporaryDirectory)/plugin-host-blob-XXXXXX".utf8CString)
        let file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard file >= 0 else {
            return .failure(BlobFailure("cannot make a temporary file for a blob in \(temporaryDirectory): \(errnoText())"))
        }
        unlink(String(cString: template.withUnsafeBufferPointer { $0.baseAddress! }))
        defer { close(file) }
        _ = fcntl(file, F_SETFD, FD_CLOEXEC)
        if let failure = fetchVerified(digest: digest, size: size, into: file, fetch: fetch) { return .failure(failure) }
        let readOnly = Glibc.open("/proc/self/fd/\(file)", O_RDONLY | O_CLOEXEC)
        guard readOnly >= 0 else { return .failure(BlobFailure("cannot reopen the fetched blob: \(errnoText())")) }
        return .success(readOnly)
    }

    /// Creates the cache directory if missing and checks it is private: a directory owned by
    /// this user, no access for group or others. Nil when it is fit for use.
    private func preparePrivateDirectory(_ directory: String) -> BlobFailure? {
        guard makeDirectories(directory) else { return BlobFailure("cannot create the blob cache \(directory): \(errnoText())") }
        var info = stat()
        guard stat(directory, &info) == 0 else { return BlobFailure("cannot use the blob cache \(directory): \(errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return BlobFailure("the blob cache \(directory) is not a directory") }
        guard info.st_uid == geteuid() else {
            return BlobFailure("the blob cache \(directory) belongs to uid \(info.st_uid), not to this user (uid \(geteuid())): refused")
        }
        guard info.st_mode & 0o077 == 0 else {
            return BlobFailure("the blob cache \(directory) is open to other users (mode \(String(info.st_mode & 0o777, radix: 8)), "
                               + "expected 700): refused")
        }
        return nil
    }

    /// The cached blob, if its file has the right size and content (hashed at each open: a file
    /// name proves nothing), its use time refreshed for the eviction order when no other worker
    /// has it open. A file whose content does not match is removed, with a warning.
    private func openCached(_ path: String, digest: [UInt8], size: UInt64) -> Int32? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, UInt64(info.st_size) == size else {
            close(descriptor)
            return nil
        }
        guard let actual = SHA256Hasher.digest(ofFile: descriptor), actual.digest == digest, actual.size == size else {
            close(descriptor)
            // Only the file just read: another worker may have put a good copy there meanwhile.
            var current = stat()
            if stat(path, &current) == 0, current.st_dev == info.st_dev, current.st_ino == info.st_ino { unlink(path) }
            printError("blob cache: \(path) does not match its SHA-256 (damaged or planted): removed, fetching the blob again")
            return nil
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { _ = futimens(descriptor, nil) }
        BlobCache.holdInUse(descriptor)
        return descriptor
    }

    /// Holds a shared lock on the open blob until the plugin closes `descriptor`. The use time
    /// is refreshed (above) only under an exclusive lock, so never while another worker holds
    /// the blob: a refresh changes the file's modification and status-change times, which a
    /// reader that checks a file for changes (MetamathKit's `FileContents`) would report as
    /// "changed while being read".
    private static func holdInUse(_ descriptor: Int32) {
        while flock(descriptor, LOCK_SH) != 0 && errno == EINTR {}
    }

    /// Deletes the least recently used blobs until the cache fits its limit (never `keeping`),
    /// and partial files abandoned for an hour.
    private func evict(keeping: String) {
        guard case .directory(let directory) = location, let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        var entries: [(name: String, size: UInt64, used: Int)] = []
        var total: UInt64 = 0
        let now = time(nil)
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if name.hasPrefix(".partial-") {
                if now - info.st_mtim.tv_sec > 3600 { unlink(directory + "/" + name) }
                continue
            }
            entries.append((name, UInt64(info.st_size), info.st_mtim.tv_sec))
            total += UInt64(info.st_size)
        }
        for entry in entries.sorted(by: { $0.used < $1.used }) where total > limitBytes && entry.name != keeping {
            if unlink(directory + "/" + entry.name) == 0 { total -= entry.size }
        }
    }

    private func makeDirectories(_ path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }
}

/// Why a blob could not be opened: one line.
struct BlobFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

func errnoText() -> String { String(cString: strerror(errno)) }
