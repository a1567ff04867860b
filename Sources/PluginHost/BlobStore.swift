import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The files task kinds published for their workers (`PH_EXT_BLOBS`), and how each worker
/// reaches them: the master's open file for a worker on this machine, the content's SHA-256 for
/// one elsewhere, which then fetches the bytes through the protocol (``WorkerState/sendBlob(_:)``).
///
/// Guarded by the scheduler's lock, except ``content(digest:)`` and the reads that serve a
/// request, which only touch blobs whose digest is already known (immutable from then on).
final class BlobStore: @unchecked Sendable {
    final class Blob: @unchecked Sendable {
        let descriptor: Int32
        let size: UInt64
        /// The SHA-256: computed when published in a run with remote hosts, else the first time
        /// a remote worker needs it.
        var digest: [UInt8]?
        init(descriptor: Int32, size: UInt64) {
            self.descriptor = descriptor
            self.size = size
        }
    }

    private var blobs: [Blob] = []
    private let digestLock = ConditionLock()
    private var byDigest: [[UInt8]: Blob] = [:]
    /// Whether the named worker runs on another machine (nil: no such worker). Set by the scheduler.
    var isRemoteWorker: (String) -> Bool? = { _ in false }
    /// True when some workers of the run may be remote: blobs are then hashed when published
    /// (in `master_open`, before the run starts), not under the scheduler's lock at the first
    /// remote request, where a long hash would stall heartbeats and time limits.
    var hashesOnPublish = false

    /// Keeps a duplicate of `descriptor`, which must be a regular file; returns its id (> 0).
    func publish(descriptor: Int32) -> UInt64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return 0 }
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 3)
        guard copy >= 0 else { return 0 }
        let blob = Blob(descriptor: copy, size: UInt64(info.st_size))
        blobs.append(blob)
        if hashesOnPublish { _ = digest(of: blob) }
        return UInt64(blobs.count)
    }

    /// The reference for `worker` to blob `id`, or nil.
    func reference(_ id: UInt64, worker: String) -> [UInt8]? {
        guard id >= 1, id <= UInt64(blobs.count), let remote = isRemoteWorker(worker) else { return nil }
        let blob = blobs[Int(id - 1)]
        if !remote { return BlobReference.local(path: "/proc/\(getpid())/fd/\(blob.descriptor)").encoded }
        guard let digest = digest(of: blob) else { return nil }
        return BlobReference.content(digest: digest, size: blob.size).encoded
    }

    /// The blob with this digest, if one was referenced for a remote worker. Any thread.
    func content(digest: [UInt8]) -> Blob? {
        digestLock.withLock { byDigest[digest] }
    }

    /// The blob's SHA-256, hashed on first need and then findable by ``content(digest:)``.
    private func digest(of blob: Blob) -> [UInt8]? {
        if let digest = blob.digest { return digest }
        guard let (digest, size) = SHA256Hasher.digest(ofFile: blob.descriptor), size == blob.size else { return nil }
        blob.digest = digest
        digestLock.withLock { byDigest[digest] = blob }
        return digest
    }

    deinit {
        for blob in blobs { close(blob.descriptor) }
    }
}
