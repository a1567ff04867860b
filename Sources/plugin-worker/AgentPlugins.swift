import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The plugin files the agent loads: the master's own path when this host has the very same
/// file there (same SHA-256), else a copy fetched from the master once and kept in the blob
/// cache, verified by digest (see ``BlobCache``), so a host needs no plugin installed.
final class AgentPlugins {
    /// How a plugin can be had.
    enum Resolution {
        /// Load it from this path.
        case ready(String)
        /// Being fetched under this request number; `isNew` when the master must be asked now.
        case fetching(request: UInt64, isNew: Bool)
        case failed(String)
    }

    /// A plugin on its way from the master: written to an unnamed temporary file, then stored
    /// in the blob cache.
    private struct Fetch {
        let digest: [UInt8]
        let size: UInt64
        let file: Int32
        var received: UInt64 = 0
    }

    /// The files at paths looked at: their SHA-256 (empty: unreadable) and, when it matched, the
    /// path of the descriptor kept open on them.
    private var localCopies: [String: (digest: [UInt8], path: String?)] = [:]
    /// Where each plugin fetched so far is open: `/proc/PID/fd/N` of the verified copy.
    private var fetched: [[UInt8]: String] = [:]
    private var fetches: [UInt64: Fetch] = [:]
    private var requests: [[UInt8]: UInt64] = [:]
    private var nextRequest: UInt64 = 1
    private let cache = BlobCache()

    /// Where the plugin the master has at `path`, with `digest` and `size`, can be loaded here.
    func resolve(path: String, digest: [UInt8], size: UInt64) -> Resolution {
        if let copy = local(path, digest: digest) { return .ready(copy) }
        if let copy = fetched[digest] { return .ready(copy) }
        if let request = requests[digest] { return .fetching(request: request, isNew: false) }
        var template = Array("\(BlobCache.environmentVariable("TMPDIR") ?? "/tmp")/plugin-host-agent-XXXXXX".utf8CString)
        let file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard file >= 0 else { return .failed("cannot make a temporary file for plugin \(path): \(SystemError.current)") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(file, F_SETFD, FD_CLOEXEC)
        let request = nextRequest
        nextRequest += 1
        fetches[request] = Fetch(digest: digest, size: size, file: file)
        requests[digest] = request
        return .fetching(request: request, isNew: true)
    }

    /// Appends a piece of the plugin fetched under `request`; false when it cannot be kept.
    func received(_ bytes: ArraySlice<UInt8>, request: UInt64) -> Bool {
        guard var fetch = fetches[request] else { return false }
        fetch.received += UInt64(bytes.count)
        guard fetch.received <= fetch.size else { return false }
        fetches[request] = fetch
        return bytes.withUnsafeBytes { Descriptor(fetch.file).writeAllResult($0) == nil }
    }

    /// The plugin of `request` is complete (`problem` nil) or cannot come: where it can be
    /// loaded now, or why not.
    func finished(request: UInt64, problem: String?) -> Result<String, BlobFailure> {
        guard let fetch = fetches.removeValue(forKey: request) else { return .failure(BlobFailure("no such plugin request")) }
        requests[fetch.digest] = nil
        defer { close(fetch.file) }
        if let problem { return .failure(BlobFailure("the master could not send the plugin: \(problem)")) }
        let opened = cache.open(digest: fetch.digest, size: fetch.size) { destination in
            lseek(fetch.file, 0, SEEK_SET)
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = read(fetch.file, &buffer, buffer.count)
                if count == 0 { return nil }
                if count < 0 { return "cannot read the fetched plugin: \(SystemError.current)" }
                let written = buffer[0..<count].withUnsafeBytes { Descriptor(destination).writeAllResult($0) == nil }
                if !written { return "cannot store the fetched plugin: \(SystemError.current)" }
            }
        }
        switch opened {
        case .success(let descriptor):
            // Loaded through this open descriptor, which was verified: a file put at the
            // cache's path meanwhile is never what gets loaded.
            let path = "/proc/\(getpid())/fd/\(descriptor)"
            fetched[fetch.digest] = path
            return .success(path)
        case .failure(let failure):
            return .failure(failure)
        }
    }

    /// Where the file at `path` here can be loaded if its SHA-256 is `digest`: the path of the
    /// descriptor it was hashed through (`/proc/PID/fd/N`, kept open), so what is loaded is what
    /// was hashed even if the file is replaced meanwhile; nil when it differs or is unreadable.
    private func local(_ path: String, digest: [UInt8]) -> String? {
        if let known = localCopies[path] { return known.digest == digest ? known.path : nil }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var entry: (digest: [UInt8], path: String?) = ([], nil)
        if descriptor >= 0 {
            entry.digest = SHA256Hasher.digest(ofFile: descriptor)?.digest ?? []
            if entry.digest == digest {
                entry.path = "/proc/\(getpid())/fd/\(descriptor)"
            } else {
                close(descriptor)
            }
        }
        localCopies[path] = entry
        return entry.digest == digest ? entry.path : nil
    }
}
