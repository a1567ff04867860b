import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// This machine's cache of blobs fetched from masters, one file per SHA-256, shared by every
/// worker of the user on the machine and bounded in size (least recently used files go first).
///
/// A fetched blob is written to a private partial file while its digest is computed, and is
/// linked under its digest's name only when size and digest match (never renamed over a file
/// another worker may be reading). A name is not trusted on its
/// own, though: an open from the cache hashes the file again unless its stamp (`BlobStamp`,
/// written after each verification) shows the opened file unchanged since it was last hashed;
/// a file whose content does not match its name (damaged, or planted) is removed with its stamp
/// and a warning, and fetched anew. Once named, a blob file is never written or touched: its use
/// time (for eviction) is its stamp's modification time, else its own.
///
/// The cache must be private: a directory owned by this user with no access for group or others
/// (mode 700, as it is created); any other is refused with one line, and so is a relative path.
/// Directory: `$PLUGIN_HOST_BLOB_CACHE` (absolute), else `$XDG_CACHE_HOME/plugin-host/blobs`
/// (when absolute), else `$HOME/.cache/plugin-host/blobs` (when absolute); with none of these
/// there is no cache (never a guessable shared path such as `/tmp`): each blob is fetched into an
/// unnamed private temporary file (in `$TMPDIR`, else `/tmp`), deleted when the worker closes it.
/// Limit `$PLUGIN_HOST_BLOB_CACHE_MB` (default 4096). With `$PLUGIN_HOST_BLOB_CACHE_TRACE` set,
/// each open from the cache says on standard error whether the file was hashed or its stamp
/// vouched for it.
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
    /// Whether to say on standard error how each cached blob was verified.
    let tracing: Bool

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
        tracing = variable("PLUGIN_HOST_BLOB_CACHE_TRACE") != nil
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
        if let descriptor = openCached(final, digest: digest, size: size, in: directory) { return .success(descriptor) }
        var template = Array("\(directory)/.partial-\(name.prefix(16))-XXXXXX".utf8CString)
        let partial = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard partial >= 0 else { return .failure(BlobFailure("cannot write to the blob cache \(directory): \(errnoText())")) }
        _ = fcntl(partial, F_SETFD, FD_CLOEXEC)  // (mkostemp is not in the Glibc module.)
        let partialPath = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        defer { close(partial) }
        // Verified before anyone can find it under its name.
        let verifiedSince = BlobStamp.now()
        if let failure = fetchVerified(digest: digest, size: size, into: partial, fetch: fetch) {
            unlink(partialPath)
            return .failure(failure)
        }
        // Opened before it gets its name: another worker's eviction may unlink it at once
        // (unless it is held, as it is from before it has a name).
        let verified = Glibc.open(partialPath, O_RDONLY | O_CLOEXEC)
        if verified >= 0 { BlobCache.holdInUse(verified) }
        // Published with link, never rename: when another worker fetched the same blob at the
        // same time and published it first, renaming over its file would change that file's link
        // count and status-change time while the other worker reads it (ProofCheck's image reader
        // then reports "changed while being read"). The loser keeps its own verified copy, unnamed.
        let published = verified >= 0 ? link(partialPath, final) : -1
        let publishError = errno
        unlink(partialPath)
        if verified >= 0 && published != 0 && publishError == EEXIST {
            if tracing { printError("blob cache: \(name.prefix(16)): fetched and hashed; another worker stored it first") }
            return .success(verified)
        }
        guard verified >= 0, published == 0 else {
            if verified >= 0 { close(verified) }
            errno = publishError
            return .failure(BlobFailure("cannot store blob \(name.prefix(16)) in \(directory): \(errnoText())"))
        }
        // (Linking and unlinking change the file's status-change time, after the hash:
        // this stamp vouches for the file only where it did not, and otherwise gives its use time.)
        stamp(verified, digest: digest, since: verifiedSince, at: directory + "/" + BlobStamp.name(for: name), in: directory)
        if tracing { printError("blob cache: \(name.prefix(16)): fetched and hashed") }
        evict(keeping: name)
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

    /// The cached blob, if its file has the right size and content: hashed, unless its stamp
    /// vouches for the very file opened (compared with `fstat` of the descriptor, so a file
    /// swapped in after the open cannot profit from it). A file whose content does not match is
    /// removed with its stamp, and a warning.
    private func openCached(_ path: String, digest: [UInt8], size: UInt64, in directory: String) -> Int32? {
        // O_NONBLOCK: a FIFO planted under the name must not wait for a writer (it is removed
        // below); cleared again for the regular file handed out.
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        // Held before it is examined: an eviction that unlinked it meanwhile is over by then.
        BlobCache.holdInUse(descriptor)
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            return nil
        }
        let name = BlobReference.hex(digest)
        let stampPath = directory + "/" + BlobStamp.name(for: name)
        guard (info.st_mode & S_IFMT) == S_IFREG, UInt64(info.st_size) == size else {
            // Of the wrong size (a full disk, a planted file): removed, since a fetched copy is
            // linked under the name only where no file has it.
            close(descriptor)
            removeIfStill(path, info, stampPath: stampPath)
            return nil
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        if BlobStamp.read(stampPath, refreshingUseTime: true)?.vouches(for: info, digest: digest) == true {
            if tracing { printError("blob cache: \(name.prefix(16)): unchanged since verified (stamp), not hashed") }
            return descriptor
        }
        let verifiedSince = BlobStamp.now()
        guard let actual = SHA256Hasher.digest(ofFile: descriptor), actual.digest == digest, actual.size == size else {
            close(descriptor)
            removeIfStill(path, info, stampPath: stampPath)
            printError("blob cache: \(path) does not match its SHA-256 (damaged or planted): removed, fetching the blob again")
            return nil
        }
        if tracing { printError("blob cache: \(name.prefix(16)): hashed") }
        stamp(descriptor, digest: digest, since: verifiedSince, at: stampPath, in: directory)
        return descriptor
    }

    /// Holds a shared lock on the open blob until the plugin closes `descriptor`: eviction
    /// removes only a blob it can lock exclusively, since unlinking a file changes its link
    /// count and status-change time, which a reader that checks a file for changes
    /// (MetamathKit's `FileContents`) reports as "changed while being read".
    private static func holdInUse(_ descriptor: Int32) {
        _ = retryingOnInterrupt { flock(descriptor, LOCK_SH) }
    }

    /// Unlinks the blob file `path` (and its stamp) unless a worker holds it (`holdInUse`);
    /// true when it was removed.
    private func removeUnlessHeld(_ path: String, stampPath: String) -> Bool {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var opened = stat(), current = stat()
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, fstat(descriptor, &opened) == 0,
              lstat(path, &current) == 0, current.st_dev == opened.st_dev, current.st_ino == opened.st_ino,
              unlink(path) == 0 else { return false }
        unlink(stampPath)
        return true
    }

    /// Removes the file at `path` and its stamp if `path` still names the file `opened` describes
    /// (another worker may have put a good copy there meanwhile).
    private func removeIfStill(_ path: String, _ opened: stat, stampPath: String) {
        var current = stat()
        guard lstat(path, &current) == 0, current.st_dev == opened.st_dev, current.st_ino == opened.st_ino else { return }
        unlink(path)
        unlink(stampPath)
    }

    /// Records at `stampPath` that the blob open as `descriptor`, as `fstat` shows it now, was
    /// verified by a hash that began at `since`.
    private func stamp(_ descriptor: Int32, digest: [UInt8], since: timespec, at stampPath: String, in directory: String) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return }
        BlobStamp(digest: digest, file: .init(info), verifiedSince: since).write(to: stampPath, in: directory)
    }

    /// Deletes the least recently used blobs with their stamps until the cache fits its limit
    /// (never `keeping`, nor a blob a worker holds open), stamps whose blob is gone, and partial
    /// files abandoned for an hour.
    /// A blob's use time is its stamp's modification time, else its own.
    private func evict(keeping: String) {
        guard case .directory(let directory) = location, let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        var files: [String: stat] = [:]
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
            files[name] = info
        }
        var entries: [(name: String, size: UInt64, used: Int)] = []
        var total: UInt64 = 0
        for (name, info) in files {
            if let blob = BlobStamp.blob(ofStamp: name) {
                if files[blob] == nil { unlink(directory + "/" + name) }
                continue
            }
            entries.append((name, UInt64(info.st_size), (files[BlobStamp.name(for: name)] ?? info).st_mtim.tv_sec))
            total += UInt64(info.st_size)
        }
        for entry in entries.sorted(by: { $0.used < $1.used }) where total > limitBytes && entry.name != keeping {
            if removeUnlessHeld(directory + "/" + entry.name, stampPath: directory + "/" + BlobStamp.name(for: entry.name)) {
                total -= entry.size
            }
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

/// The current `errno`'s text ("No such file or directory"), for messages.
func errnoText() -> String { SystemError.current.description }
