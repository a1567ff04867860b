// Review of issue 12, defect 6: every open from the blob cache refreshed the cached file's use
// time (futimens), which changes its modification and status-change times. A worker reading the
// same blob at that moment (MetamathKit's FileContents checks both times) reported "changed while
// being read": with two remote slots on one machine, `proofcheck` on iset.mm x10 had a worker
// fail and the master check 20,564 theorems itself. The use time is now refreshed only when no
// other worker holds the blob (an exclusive lock is free), and an opened blob is held with a
// shared lock until the plugin closes it. Since the verified stamps (BlobCacheStampTests), a
// cached blob is never touched at all: its use time is its stamp's modification time.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blob cache: a blob in use keeps its times")
struct BlobCacheInUseTests {
    /// Modification and status-change times of `path`.
    static func times(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [info.st_mtim.tv_sec, info.st_mtim.tv_nsec, info.st_ctim.tv_sec, info.st_ctim.tv_nsec]
    }

    @Test("opening a cached blob another worker holds open changes neither its mtime nor its ctime; once free, its use time is refreshed")
    func heldBlobKeepsItsTimes() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = BlobTests.makeFile(directory, "image.bin", size: 300_000, seed: 31)
        let (cache, cached) = try BlobCacheTrustTests.privateCache(directory, for: bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: cached))
        // Used a day ago, as far as the cache knows.
        var old = [timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, cached, &old, 0) == 0)

        // Another worker reading the blob: it holds it as the cache hands it out.
        let reader = open(cached, O_RDONLY | O_CLOEXEC)
        try #require(reader >= 0)
        #expect(flock(reader, LOCK_SH) == 0)
        let before = Self.times(cached)
        let held = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, retries: 0))
        let heldReport = try await held.startAndFinish()
        #expect(try heldReport.result(1).response?.result == "size=300000 fnv=\(BlobTests.fnv(bytes))")
        #expect(Self.times(cached) == before, "the times of a blob another worker is reading changed")
        close(reader)
        let stamp = cache + "/." + BlobReference.hex(try BlobCacheTrustTests.sha256(bytes)) + ".ok"
        #expect(utimensat(AT_FDCWD, stamp, &old, 0) == 0, "no stamp after the first open")

        let free = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, retries: 0))
        let freeReport = try await free.startAndFinish()
        #expect(try freeReport.result(1).response?.result == "size=300000 fnv=\(BlobTests.fnv(bytes))")
        #expect((Self.times(stamp).first ?? 0) > time(nil) - 3600, "the use time of a free blob was not refreshed")
        #expect(Self.times(cached) == before, "the blob's own times changed")
    }
}
