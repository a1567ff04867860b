// Review of the blob cache: a FIFO under a blob's name (planted, or left by anything) made the
// worker's open from the cache wait for a writer forever: the task hung. The cache now opens
// without waiting, finds it is no regular file, removes it and fetches the blob.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blob cache: a FIFO under a blob's name")
struct BlobCachePlantedFIFOTests {
    @Test("a FIFO named as the blob is removed and the blob fetched, without hanging")
    func fifoIsReplaced() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = BlobTests.makeFile(directory, "data.bin", size: 200_000, seed: 71)
        let (cache, cached) = try BlobCacheTrustTests.privateCache(directory, for: bytes)
        #expect(mkfifo(cached, 0o600) == 0)
        let test = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, retries: 0))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).response?.result == "size=200000 fnv=\(BlobTests.fnv(bytes))")
        var info = stat()
        #expect(lstat(cached, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG, "the FIFO is still there")
    }
}
