import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// This machine's cache of blobs fetched from masters, one file per SHA-256, shared by every
/// worker on the machine and bounded in size (least recently used files go first).
///
/// A fetched blob is written to a private partial file while its digest is computed, and is
/// renamed to its digest's name only when size and digest match, so a name in the cache always
/// means verified content (two workers fetching the same blob at once both rename identical
/// content). Directory: `$PLUGIN_HOST_BLOB_CACHE`, else `$XDG_CACHE_HOME/plugin-host/blobs`,
/// else `~/.cache/plugin-host/blobs`; limit `$PLUGIN_HOST_BLOB_CACHE_MB` (default 4096).
struct BlobCache {
    let directory: String
    let limitBytes: UInt64

    init() {
        func variable(_ name: String) -> String? {
            guard let value = getenv(name) else { return nil }
            let text = String(cString: value)
            return text.isEmpty ? nil : text
        }
        if let explicit = variable("PLUGIN_HOST_BLOB_CACHE") {
            directory = explicit
        } else if let cache = variable("XDG_CACHE_HOME") {
            directory = cache + "/plugin-host/blobs"
        } else if let home = variable("HOME") {
            directory = home + "/.cache/plugin-host/blobs"
        } else {
            directory = "/tmp/plugin-host-blobs-\(getuid())"
        }
        let megabytes = variable("PLUGIN_HOST_BLOB_CACHE_MB").flatMap { UInt64($0) } ?? 4096
        limitBytes = megabytes << 20
    }

    /// Opens the blob with `digest` and `size`, fetching it with `fetch` (which writes the content
    /// to the descriptor it is given and returns nil, or returns why it could not) when absent.
    func open(digest: [UInt8], size: UInt64, fetch: (Int32) -> String?) -> Result<Int32, BlobFailure> {
        let name = BlobReference.hex(digest)
        let final = directory + "/" + name
        if let descriptor = openCached(final, size: size) { return .success(descriptor) }
        guard makeDirectories(directory) else { return .failure(BlobFailure("cannot create the blob cache \(directory): \(errnoText())")) }
        var template = Array("\(directory)/.partial-\(name.prefix(16))-XXXXXX".utf8CString)
        let partial = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard partial >= 0 else { return .failure(BlobFailure("cannot write to the blob cache \(directory): \(errnoText())")) }
        _ = fcntl(partial, F_SETFD, FD_CLOEXEC)  // (mkostemp is not in the Glibc module.)
        let partialPath = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        defer { close(partial) }
        if let problem = fetch(partial) {
            unlink(partialPath)
            return .failure(BlobFailure(problem))
        }
        // Verify what arrived before anyone can find it under its name.
        switch SHA256Hasher.digest(ofFile: partial) {
        case .some(let actual) where actual.digest == digest && actual.size == size:
            break
        case .some(let actual):
            unlink(partialPath)
            return .failure(BlobFailure("blob \(name.prefix(16)) arrived corrupted: \(actual.size) bytes with digest "
                                        + "\(BlobReference.hex(actual.digest).prefix(16)), expected \(size) bytes"))
        case .none:
            unlink(partialPath)
            return .failure(BlobFailure("cannot verify blob \(name.prefix(16)): \(errnoText())"))
        }
        // Opened before it gets its name: another worker's eviction may unlink it at once.
        let verified = Glibc.open(partialPath, O_RDONLY | O_CLOEXEC)
        guard verified >= 0, rename(partialPath, final) == 0 else {
            if verified >= 0 { close(verified) }
            unlink(partialPath)
            return .failure(BlobFailure("cannot store blob \(name.prefix(16)) in \(directory): \(errnoText())"))
        }
        evict(keeping: name)
        return .success(verified)
    }

    /// A cached blob of the right size, its use time refreshed (for the eviction order).
    private func openCached(_ path: String, size: UInt64) -> Int32? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, UInt64(info.st_size) == size else {
            close(descriptor)
            return nil
        }
        _ = futimens(descriptor, nil)
        return descriptor
    }

    /// Deletes the least recently used blobs until the cache fits its limit (never `keeping`),
    /// and partial files abandoned for an hour.
    private func evict(keeping: String) {
        guard let stream = opendir(directory) else { return }
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
