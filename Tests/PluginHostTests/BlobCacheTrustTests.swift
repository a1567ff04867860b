// The remote workers' blob cache does not trust what it finds (issue 12, defect 6): a cached file
// is hashed at every open, so a file of the right size and name but other content (planted, or
// damaged) is never used; the cache directory must be private to the user; a relative path is
// refused; and without HOME there is no cache rather than a guessable shared path in /tmp.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blob cache trust")
struct BlobCacheTrustTests {
    /// The SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) throws -> [UInt8] {
        guard var hasher = SHA256Hasher() else { throw BlobFailureInTest.noLibcrypto }
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finish()
    }

    enum BlobFailureInTest: Error { case noLibcrypto }

    /// One launched worker on host "far" whose environment is changed by `environment`
    /// (arguments to `env`, such as `-u HOME` or `VAR=value`); no retries, so a refused cache
    /// shows as the task's failure.
    static func configuration(_ directory: TemporaryDirectory, environment: String) throws -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: 1, retries: 0)
        configuration.hosts = [WorkerHost(name: "far", slots: 1)]
        configuration.launcher = try WorkerLauncher(
            template: "\(WorkerPlacementTests.fakeSSH(in: directory)) {host} /usr/bin/env \(environment) \(TestPaths.pluginWorker)")
        return configuration
    }

    /// A private cache directory (mode 700) in `directory`, and the path a blob of `bytes` has in it.
    static func privateCache(_ directory: TemporaryDirectory, for bytes: [UInt8]) throws -> (cache: String, cached: String) {
        let cache = directory.file("cache")
        #expect(mkdir(cache, 0o700) == 0)
        return (cache, cache + "/" + BlobReference.hex(try sha256(bytes)))
    }

    @Test("a planted file of the right name and size but other content is detected, removed and not used")
    func plantedBlobIsNotUsed() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = BlobTests.makeFile(directory, "image.bin", size: 500_000, seed: 21)
        let (cache, planted) = try Self.privateCache(directory, for: bytes)
        let (_, wrong) = BlobTests.makeFile(directory, "planted.bin", size: bytes.count, seed: 22)
        try Data(wrong).write(to: URL(fileURLWithPath: planted))

        let test = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, retries: 0))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).response?.result == "size=500000 fnv=\(BlobTests.fnv(bytes))", "the planted content was used")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: planted))) == bytes, "the entry now holds the fetched, verified bytes")
        #expect(test.log.stderrLines.contains { $0.contains("does not match its SHA-256") }, "\(test.log.stderrLines)")
    }

    @Test("a cache directory that is not private to the user is refused with one line",
          .enabled(if: getuid() == 0, "chown to another user needs root"),
          arguments: [(65534 as UInt32, 0o700 as UInt16, "belongs to uid 65534"), (0, 0o755, "is open to other users (mode 755")])
    func sharedCacheRefused(owner: UInt32, mode: UInt16, message: String) async throws {
        let directory = TemporaryDirectory()
        let (path, _) = BlobTests.makeFile(directory, "image.bin", size: 100_000, seed: 23)
        let cache = directory.file("cache")
        #expect(mkdir(cache, 0o700) == 0)
        #expect(chown(cache, owner, owner) == 0 && chmod(cache, mode_t(mode)) == 0)
        let test = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, retries: 0))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed, "\(result)")
        #expect(result.message?.contains("the blob cache \(cache) \(message)") == true, "\(result.message ?? "")")
        #expect(result.message?.contains("\n") == false)
        #expect(BlobTests.cachedFiles(cache).isEmpty, "nothing written to a refused cache")
    }

    @Test("a relative PLUGIN_HOST_BLOB_CACHE is refused; no directory appears at / or here")
    func relativeCacheRefused() async throws {
        let directory = TemporaryDirectory()
        let (path, _) = BlobTests.makeFile(directory, "image.bin", size: 100_000, seed: 24)
        let name = "ph-relative-blob-cache-\(getpid())"
        let here = FileManager.default.currentDirectoryPath + "/" + name
        defer {
            try? FileManager.default.removeItem(atPath: "/" + name)
            try? FileManager.default.removeItem(atPath: here)
        }
        let test = try TestRun(chaos: ["blob:\(path)"],
                               try Self.configuration(directory, environment: "PLUGIN_HOST_BLOB_CACHE=\(name)"))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed, "\(result)")
        #expect(result.message?.hasSuffix("PLUGIN_HOST_BLOB_CACHE=\(name): the blob cache must be an absolute path") == true,
                "\(result.message ?? "")")
        #expect(access("/" + name, F_OK) != 0, "a directory was made at /")
        #expect(access(here, F_OK) != 0)
    }

    @Test("with HOME unset there is no cache: blobs arrive intact through unnamed files; nothing lands in /tmp")
    func noHomeNoPredictableCache() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = BlobTests.makeFile(directory, "image.bin", size: 300_000, seed: 25)
        let legacy = "/tmp/plugin-host-blobs-\(getuid())/" + BlobReference.hex(try Self.sha256(bytes))
        let scratch = directory.file("tmp")
        #expect(mkdir(scratch, 0o700) == 0)
        defer { unlink(legacy) }
        let environment = "-u HOME -u XDG_CACHE_HOME -u PLUGIN_HOST_BLOB_CACHE TMPDIR=\(scratch)"
        let test = try TestRun(chaos: ["blob:\(path)", "blob:\(path)"], try Self.configuration(directory, environment: environment))
        let report = try await test.startAndFinish()
        for id in 1...2 {
            #expect(try report.result(UInt64(id)).response?.result == "size=300000 fnv=\(BlobTests.fnv(bytes))")
        }
        #expect(access(legacy, F_OK) != 0, "the blob was cached at the predictable \(legacy)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch)) == [], "the temporary files are gone")
    }
}
