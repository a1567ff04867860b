// The blob cache's verified stamps (issue 12, defect 6, review): hashing a cached blob at every
// open cost each one-shot worker ~45 ms on iset.mm x10's 62.8 MB image. A blob whose file is
// unchanged since it was hashed (same device, inode, size, modification and status-change times,
// as `fstat` of the opened descriptor shows) is now used without hashing; a file modified in place
// or replaced is hashed again and caught; a stamp counts only in a private cache directory.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blob cache stamps")
struct BlobCacheStampTests {
    static let hashed = ": hashed"
    static let notHashed = ": unchanged since verified (stamp), not hashed"

    /// A cache directory holding a good copy of a fresh 400 KB blob, written by the test; returns
    /// the blob's path, its bytes and the cached file. Returns once the coarse clock (the one file
    /// times come from) has passed the file's status-change time, so the hash of the first open
    /// begins after it and its stamp can vouch.
    static func cacheHolding(_ directory: TemporaryDirectory, seed: UInt64, mode: mode_t = 0o700)
        throws -> (path: String, bytes: [UInt8], cache: String, cached: String)
    {
        let (path, bytes) = BlobTests.makeFile(directory, "image.bin", size: 400_000, seed: seed)
        let cache = directory.file("cache")
        #expect(mkdir(cache, 0o700) == 0 && chmod(cache, mode) == 0)
        let cached = cache + "/" + BlobReference.hex(try BlobCacheTrustTests.sha256(bytes))
        try Data(bytes).write(to: URL(fileURLWithPath: cached))
        var info = stat()
        #expect(stat(cached, &info) == 0)
        while true {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME_COARSE, &now)
            if (now.tv_sec, now.tv_nsec) > (info.st_ctim.tv_sec, info.st_ctim.tv_nsec) { break }
            usleep(1000)
        }
        return (path, bytes, cache, cached)
    }

    /// One one-shot run of `blob:PATH` on a remote worker with this cache, tracing its opens.
    static func run(_ directory: TemporaryDirectory, _ path: String, cache: String) async throws -> (result: String?, stderr: [String]) {
        let configuration = try BlobCacheTrustTests.configuration(
            directory, environment: "PLUGIN_HOST_BLOB_CACHE=\(cache) PLUGIN_HOST_BLOB_CACHE_TRACE=1")
        let test = try TestRun(chaos: ["blob:\(path)"], configuration)
        let report = try await test.startAndFinish()
        return (try report.result(1).response?.result ?? report.result(1).message, test.log.stderrLines)
    }

    static func stampPath(_ cached: String) -> String {
        let slash = cached.lastIndex(of: "/")!
        return cached[..<slash] + "/." + cached[cached.index(after: slash)...] + ".ok"
    }

    /// The cache's stamp line for the file at `path` as it is now, verified from `since`.
    static func stampLine(for path: String, digest: String, since: Int) -> String {
        var info = stat()
        _ = stat(path, &info)
        return ["plugin-host-blob-stamp-1", digest, "\(info.st_dev)", "\(info.st_ino)", "\(info.st_size)",
                "\(info.st_mtim.tv_sec)", "\(info.st_mtim.tv_nsec)", "\(info.st_ctim.tv_sec)", "\(info.st_ctim.tv_nsec)",
                "\(since)", "0"].joined(separator: " ") + "\n"
    }

    /// Hashed at the first open, stamped; the second open trusts the stamp.
    static func stamped(_ directory: TemporaryDirectory, seed: UInt64) async throws -> (path: String, bytes: [UInt8], cache: String, cached: String) {
        let held = try Self.cacheHolding(directory, seed: seed)
        let first = try await Self.run(directory, held.path, cache: held.cache)
        #expect(first.result == "size=400000 fnv=\(BlobTests.fnv(held.bytes))")
        #expect(first.stderr.contains { $0.hasSuffix(Self.hashed) }, "\(first.stderr)")
        #expect(access(Self.stampPath(held.cached), F_OK) == 0, "no stamp after the hash")
        let second = try await Self.run(directory, held.path, cache: held.cache)
        #expect(second.result == "size=400000 fnv=\(BlobTests.fnv(held.bytes))")
        #expect(second.stderr.contains { $0.hasSuffix(Self.notHashed) }, "the second open hashed again: \(second.stderr)")
        #expect(!second.stderr.contains { $0.hasSuffix(Self.hashed) })
        return held
    }

    @Test("a second open of an unchanged cached blob does not hash it; its use time is on the stamp, the blob untouched")
    func unchangedBlobNotHashedAgain() async throws {
        let directory = TemporaryDirectory()
        let held = try await Self.stamped(directory, seed: 41)
        let blobTimes = BlobCacheInUseTests.times(held.cached)
        var old = [timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, Self.stampPath(held.cached), &old, 0) == 0)
        let third = try await Self.run(directory, held.path, cache: held.cache)
        #expect(third.stderr.contains { $0.hasSuffix(Self.notHashed) }, "\(third.stderr)")
        #expect((BlobCacheInUseTests.times(Self.stampPath(held.cached)).first ?? 0) > time(nil) - 3600, "use time not refreshed")
        #expect(BlobCacheInUseTests.times(held.cached) == blobTimes, "the blob's own times changed")
    }

    @Test("a stamped blob modified in place at the same size is hashed again: the mismatch is caught and the blob fetched anew")
    func modifiedInPlaceIsCaught() async throws {
        let directory = TemporaryDirectory()
        let held = try await Self.stamped(directory, seed: 42)
        let file = open(held.cached, O_WRONLY)
        try #require(file >= 0)
        var byte: UInt8 = ~held.bytes[1000]
        #expect(pwrite(file, &byte, 1, 1000) == 1)
        close(file)
        let after = try await Self.run(directory, held.path, cache: held.cache)
        #expect(after.result == "size=400000 fnv=\(BlobTests.fnv(held.bytes))", "the modified file was used")
        #expect(after.stderr.contains { $0.contains("does not match its SHA-256") }, "\(after.stderr)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: held.cached))) == held.bytes)
    }

    @Test("a stamped blob replaced by rename (same name and size, other content) is hashed again and caught")
    func replacedByRenameIsCaught() async throws {
        let directory = TemporaryDirectory()
        let held = try await Self.stamped(directory, seed: 43)
        let (_, wrong) = BlobTests.makeFile(directory, "wrong.bin", size: held.bytes.count, seed: 44)
        let replacement = held.cache + "/replacement"
        try Data(wrong).write(to: URL(fileURLWithPath: replacement))
        #expect(rename(replacement, held.cached) == 0)
        let after = try await Self.run(directory, held.path, cache: held.cache)
        #expect(after.result == "size=400000 fnv=\(BlobTests.fnv(held.bytes))", "the replacement was used")
        #expect(after.stderr.contains { $0.contains("does not match its SHA-256") }, "\(after.stderr)")
    }

    @Test("a malformed stamp counts as none: the blob is hashed and the stamp rewritten")
    func malformedStampIgnored() async throws {
        let directory = TemporaryDirectory()
        let held = try Self.cacheHolding(directory, seed: 45)
        let stamp = Self.stampPath(held.cached)
        let good = Self.stampLine(for: held.cached, digest: String(held.cached.suffix(64)), since: time(nil) + 86_400)
        try Data(good.replacingOccurrences(of: " ", with: "  ").utf8).write(to: URL(fileURLWithPath: stamp))
        let run = try await Self.run(directory, held.path, cache: held.cache)
        #expect(run.result == "size=400000 fnv=\(BlobTests.fnv(held.bytes))")
        #expect(run.stderr.contains { $0.hasSuffix(Self.hashed) }, "\(run.stderr)")
        let rewritten = try String(contentsOfFile: stamp, encoding: .utf8)
        #expect(rewritten.hasPrefix("plugin-host-blob-stamp-1 " + held.cached.suffix(64) + " ") && !rewritten.contains("  "))
    }

    @Test("a planted blob with a stamp made for it: refused in a cache open to others; in a private one, the stamp is what vouches")
    func plantedStampOnlyCountsInPrivateCache() async throws {
        let directory = TemporaryDirectory()
        let held = try Self.cacheHolding(directory, seed: 46, mode: 0o755)
        let (_, wrong) = BlobTests.makeFile(directory, "planted.bin", size: held.bytes.count, seed: 47)
        try Data(wrong).write(to: URL(fileURLWithPath: held.cached))
        let stamp = Self.stampLine(for: held.cached, digest: String(held.cached.suffix(64)), since: time(nil) + 86_400)
        try Data(stamp.utf8).write(to: URL(fileURLWithPath: Self.stampPath(held.cached)))

        let open = try await Self.run(directory, held.path, cache: held.cache)
        #expect(open.result?.contains("the blob cache \(held.cache) is open to other users (mode 755") == true, "\(open.result ?? "")")
        #expect(open.result != "size=400000 fnv=\(BlobTests.fnv(wrong))", "the planted content was used")

        // The same stamp is well formed: in a private directory (which only this user can write,
        // so only this user could have made it) it does vouch, and the file is not hashed.
        #expect(chmod(held.cache, 0o700) == 0)
        let trusted = try await Self.run(directory, held.path, cache: held.cache)
        #expect(trusted.stderr.contains { $0.hasSuffix(Self.notHashed) }, "\(trusted.stderr)")
    }

    @Test("eviction removes a blob with its stamp")
    func evictionTakesTheStamp() async throws {
        let directory = TemporaryDirectory()
        let (one, _) = BlobTests.makeFile(directory, "one.bin", size: 700_000, seed: 48)
        let (two, _) = BlobTests.makeFile(directory, "two.bin", size: 700_000, seed: 49)
        let cache = directory.file("cache")
        for path in [one, two] {
            let test = try TestRun(chaos: ["blob:\(path)"], try BlobTests.remoteConfiguration(directory, cache: cache, cacheMB: 1))
            _ = try await test.startAndFinish()
        }
        let blobs = BlobTests.cachedFiles(cache)
        #expect(blobs.count == 1)
        let stamps = ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasSuffix(".ok") }
        #expect(stamps == blobs.map { "." + $0 + ".ok" }, "\(stamps)")
    }
}
