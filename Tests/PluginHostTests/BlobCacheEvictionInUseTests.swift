// Review of the blob cache's verified stamps: eviction unlinked the least recently used blob
// even while another worker was reading it. Unlinking changes the file's link count and
// status-change time, which MetamathKit's FileContents reports as "changed while being read"
// (the same failure publishing by rename caused, c9df821). A blob the cache hands out is now held
// with a shared lock until the plugin closes it, and eviction removes only a blob it can lock
// exclusively; a held blob stays until a later eviction finds it free.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blob cache: eviction spares a blob in use")
struct BlobCacheEvictionInUseTests {
    @Test("a blob another worker holds open is not evicted; once free, it is")
    func heldBlobIsNotEvicted() async throws {
        let directory = TemporaryDirectory()
        let cache = directory.file("cache")
        let (one, oneBytes) = BlobTests.makeFile(directory, "one.bin", size: 700_000, seed: 61)
        let (two, _) = BlobTests.makeFile(directory, "two.bin", size: 700_000, seed: 62)
        let (three, _) = BlobTests.makeFile(directory, "three.bin", size: 700_000, seed: 63)
        func fetch(_ path: String) async throws {
            let test = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, cacheMB: 1))
            _ = try await test.startAndFinish()
        }
        try await fetch(one)
        let held = cache + "/" + BlobReference.hex(try BlobCacheTrustTests.sha256(oneBytes))
        // Another worker reading the blob: it holds it as the cache hands it out.
        let reader = open(held, O_RDONLY | O_CLOEXEC)
        try #require(reader >= 0)
        defer { close(reader) }
        #expect(flock(reader, LOCK_SH) == 0)
        var before = stat()
        #expect(fstat(reader, &before) == 0)

        // A second 700 KB blob does not fit a 1 MiB cache beside the first, but the first is in use.
        try await fetch(two)
        var after = stat()
        #expect(fstat(reader, &after) == 0)
        #expect(after.st_nlink == 1, "the blob another worker is reading was unlinked")
        #expect(after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec == before.st_ctim.tv_nsec,
                "the status-change time of a blob another worker is reading changed")
        #expect(BlobTests.cachedFiles(cache).count == 2)

        // Free again: the next eviction takes it (and the other older blob).
        #expect(flock(reader, LOCK_UN) == 0)
        try await fetch(three)
        #expect(BlobTests.cachedFiles(cache) == [BlobReference.hex(try BlobCacheTrustTests.sha256(Array(try Data(contentsOf: URL(fileURLWithPath: three)))))])
    }
}
