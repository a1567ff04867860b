// Files the master publishes for its workers (PH_EXT_BLOBS): a worker on this machine opens
// the master's file; a launched ("remote") worker gets a content reference, fetches the bytes
// through the protocol once, verifies them and keeps them in its machine's bounded cache.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blobs")
struct BlobTests {
    /// FNV-1a 64 of a file, as the chaos plugin's `blob:` action computes it.
    static func fnv(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// A file of `size` pseudo-random bytes.
    static func makeFile(_ directory: TemporaryDirectory, _ name: String, size: Int, seed: UInt64) -> (String, [UInt8]) {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: size)
        for index in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        let path = directory.file(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return (path, bytes)
    }

    /// One launched ("remote") worker slot on host "far", through `ssh` (the plain fake ssh
    /// when nil), its blob cache in `cache`.
    static func remoteConfiguration(_ directory: TemporaryDirectory, cache: String, cacheMB: Int? = nil, ssh: String? = nil,
                                    retries: Int = 1, heartbeat: Double? = nil) throws -> HostConfiguration {
        var environment = "PLUGIN_HOST_BLOB_CACHE=\(cache)"
        if let cacheMB { environment += " PLUGIN_HOST_BLOB_CACHE_MB=\(cacheMB)" }
        let ssh = ssh ?? WorkerPlacementTests.fakeSSH(in: directory)
        var configuration = HostConfiguration.test(jobs: 1, retries: retries)
        configuration.hosts = [WorkerHost(name: "far", slots: 1)]
        configuration.heartbeatInterval = heartbeat
        configuration.launcher = try WorkerLauncher(template: "\(ssh) {host} /usr/bin/env \(environment) \(TestPaths.pluginWorker)")
        return configuration
    }

    static func cachedFiles(_ cache: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test("a local worker opens the master's own file; the content arrives intact")
    func localWorker() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = Self.makeFile(directory, "data.bin", size: 300_000, seed: 1)
        let test = try TestRun(chaos: ["blob:\(path)"], .test(jobs: 1))
        let report = try await test.startAndFinish()
        let response = try #require(try report.result(1).response)
        #expect(response.result == "size=300000 fnv=\(Self.fnv(bytes))")
    }

    @Test("a remote worker fetches a blob once, verified, and later workers on its host use the cache")
    func remoteFetchAndCache() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = Self.makeFile(directory, "image.bin", size: 3_000_000, seed: 2)
        let cache = directory.file("cache")
        // One-shot: each task has a fresh worker, so only the cache can spare the second transfer.
        let test = try TestRun(chaos: ["blob:\(path)", "blob:\(path)", "blob:\(path)"],
                               try Self.remoteConfiguration(directory, cache: cache))
        let report = try await test.startAndFinish()
        for id in 1...3 {
            #expect(try report.result(UInt64(id)).response?.result == "size=3000000 fnv=\(Self.fnv(bytes))")
        }
        #expect(Set(test.log.workersStarted.map(\.name)).count == 3)
        let files = Self.cachedFiles(cache)
        #expect(files.count == 1 && files[0].count == 64, "one cache file named by its SHA-256: \(files)")
        let cached = try #require(FileManager.default.contents(atPath: cache + "/" + files[0]))
        #expect([UInt8](cached) == bytes)
        // The cache file was written once: its inode is the first fetch's (a re-fetch renames a new file).
        var first = stat()
        stat(cache + "/" + files[0], &first)
        let again = try TestRun(chaos: ["blob:\(path)"], try Self.remoteConfiguration(directory, cache: cache))
        _ = try await again.startAndFinish()
        var second = stat()
        stat(cache + "/" + files[0], &second)
        #expect(first.st_ino == second.st_ino, "the second run used the cached copy")
    }

    @Test("a cached copy of the wrong size is fetched again; the cache keeps within its limit")
    func damagedCacheAndEviction() async throws {
        let directory = TemporaryDirectory()
        let cache = directory.file("cache")
        let (one, oneBytes) = Self.makeFile(directory, "one.bin", size: 700_000, seed: 3)
        let (two, _) = Self.makeFile(directory, "two.bin", size: 700_000, seed: 4)
        let first = try TestRun(chaos: ["blob:\(one)"], try Self.remoteConfiguration(directory, cache: cache, cacheMB: 1))
        _ = try await first.startAndFinish()
        let name = try #require(Self.cachedFiles(cache).first)
        // Damage it: truncated, as a full disk might leave it.
        truncate(cache + "/" + name, 1000)
        let second = try TestRun(chaos: ["blob:\(one)"], try Self.remoteConfiguration(directory, cache: cache, cacheMB: 1))
        let report = try await second.startAndFinish()
        #expect(try report.result(1).response?.result == "size=700000 fnv=\(Self.fnv(oneBytes))")
        // A second 700 KB blob does not fit a 1 MiB cache beside the first: the older one goes.
        let third = try TestRun(chaos: ["blob:\(two)"], try Self.remoteConfiguration(directory, cache: cache, cacheMB: 1))
        _ = try await third.startAndFinish()
        let files = Self.cachedFiles(cache)
        #expect(files.count == 1 && files[0] != name, "\(files)")
    }

    /// A launcher whose channel tampers with what the master sends: flips one bit `flipAt`
    /// bytes in (corruption no pipe or socket would report), or passes at most `bytesPerSecond`
    /// (a slow link).
    static func tamperingSSH(in directory: TemporaryDirectory, flipAt: Int? = nil, bytesPerSecond: Int? = nil) -> String {
        let proxy = directory.write("tamper.py", """
            import subprocess, sys, time
            flip, rate = int(sys.argv[1]), int(sys.argv[2])
            child = subprocess.Popen(sys.argv[3:], stdin=subprocess.PIPE)
            seen = 0
            while True:
                chunk = sys.stdin.buffer.read1(16384 if rate > 0 else 65536)
                if not chunk:
                    break
                if seen <= flip < seen + len(chunk):
                    data = bytearray(chunk)
                    data[flip - seen] ^= 0x01
                    chunk = bytes(data)
                seen += len(chunk)
                try:
                    child.stdin.write(chunk)
                    child.stdin.flush()
                except BrokenPipeError:
                    break
                if rate > 0:
                    time.sleep(len(chunk) / rate)
            try:
                child.stdin.close()
            except BrokenPipeError:
                pass
            sys.exit(child.wait())
            """)
        return directory.write("tampering-ssh", """
            #!/bin/sh
            host="$1"; shift
            exec python3 '\(proxy)' \(flipAt ?? -1) \(bytesPerSecond ?? 0) "$@"
            """)
    }

    @Test("a blob damaged on its way is refused by its digest: the task fails saying so, nothing is cached")
    func corruptedInTransit() async throws {
        let directory = TemporaryDirectory()
        let (path, _) = Self.makeFile(directory, "image.bin", size: 3_000_000, seed: 5)
        let cache = directory.file("cache")
        let ssh = Self.tamperingSSH(in: directory, flipAt: 1_500_000)
        let test = try TestRun(chaos: ["blob:\(path)"], try Self.remoteConfiguration(directory, cache: cache, ssh: ssh, retries: 0))
        let report = try await test.startAndFinish()
        let result = try report.result(1)
        #expect(result.outcome == .failed, "\(result)")
        #expect(result.message?.contains("arrived corrupted") == true, "\(result.message ?? "")")
        #expect(Self.cachedFiles(cache).isEmpty, "no cache entry for damaged bytes: \(Self.cachedFiles(cache))")
        let partials = ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasPrefix(".partial") }
        #expect(partials.isEmpty, "the partial file is removed: \(partials)")
    }

    /// Heartbeats every 0.1 s, so 0.3 s without a word means a lost worker; the blob takes about
    /// 2 s to cross the slow link, during which the master's thread for that worker is mostly
    /// blocked writing it. Neither side may take that for silence.
    @Test("a blob crossing a slow link for many heartbeat intervals is not taken for a lost worker")
    func slowTransferIsNotSilence() async throws {
        let directory = TemporaryDirectory()
        let (path, bytes) = Self.makeFile(directory, "image.bin", size: 1_500_000, seed: 6)
        let cache = directory.file("cache")
        let ssh = Self.tamperingSSH(in: directory, bytesPerSecond: 750_000)
        let test = try TestRun(chaos: ["blob:\(path)"], try Self.remoteConfiguration(directory, cache: cache, ssh: ssh, retries: 0, heartbeat: 0.1))
        let started = monotonicNanoseconds()
        let report = try await test.startAndFinish()
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        let result = try report.result(1)
        #expect(result.outcome == .done, "\(result)")
        #expect(result.response?.result == "size=1500000 fnv=\(Self.fnv(bytes))")
        #expect(test.log.workersStarted.count == 1, "one worker, never replaced: \(test.log.workersStarted)")
        #expect(seconds > 1.0, "the link was slow enough to span many heartbeat intervals (\(seconds) s)")
    }

    @Test("the blob reference format round-trips; garbage is refused")
    func referenceFormat() {
        let content = BlobReference.content(digest: Array(0..<32), size: 1 << 40)
        #expect(content.encoded.withUnsafeBytes { BlobReference(decoding: $0) } == content)
        let local = BlobReference.local(path: "/proc/1/fd/7")
        #expect(local.encoded.withUnsafeBytes { BlobReference(decoding: $0) } == local)
        #expect([UInt8]([2, 1, 2]).withUnsafeBytes { BlobReference(decoding: $0) } == nil)
        #expect([UInt8]([9]).withUnsafeBytes { BlobReference(decoding: $0) } == nil)
    }
}
