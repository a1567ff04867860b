import Testing
@testable import MetamathKit
#if canImport(Glibc)
import Glibc
#endif

/// The compiled image cache: a database compiled before is copied from it, and only when the
/// entry proves to be that database's (changed, damaged, planted or foreign entries are not).
@Suite struct ImageCacheTests {
    /// Where the master builds images (the only placement that is cached).
    private static let placement = ImagePlacement.sealedMemoryFile(fallback: ["/tmp"])

    /// A database and a cache directory (`cache`, not created yet) in a fresh directory;
    /// everything the cache writes is removed with it.
    private final class Setting {
        let directory = TemporaryDirectory()
        let database: String
        var cache: String { directory.path + "/cache" }

        init(_ text: String = ProofFixtures.a1i(ProofFixtures.a1iProof)) {
            database = directory.write("db.mm", text)
        }

        func compile(limit: Int = 4) throws(DatabaseError) -> CompiledDatabase {
            let compiled = try CompiledDatabase.compile(path: database, placement: ImageCacheTests.placement,
                                                        cache: ImageCache(directory: cache, entryLimit: limit))
            compiled.waitForCache()
            return compiled
        }

        /// The cache's entry files.
        var entries: [String] {
            guard let stream = opendir(cache) else { return [] }
            defer { closedir(stream) }
            var names: [String] = []
            while let item = readdir(stream) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(cache + "/" + name) }
            }
            return names
        }

        /// Flips one byte of the only entry, `fromEnd` bytes before its end (or at `offset`).
        func damageEntry(offset: Int? = nil, fromEnd: Int = 1) throws {
            let entry = try #require(entries.first)
            var bytes = try #require(readFile(entry))
            let at = offset ?? bytes.count - fromEnd
            bytes[at] ^= 0x5A
            let descriptor = open(entry, O_WRONLY)
            #expect(bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + at, 1, off_t(at)) } == 1)
            close(descriptor)
        }

        deinit {
            for entry in entries { unlink(entry) }
            rmdir(cache)
        }
    }

    private func bytes(of database: CompiledDatabase) -> [UInt8] { database.image.withBytes { Array($0) } }

    @Test func aSecondCompileCopiesTheCachedImage() throws {
        let setting = Setting()
        let first = try setting.compile()
        #expect(!first.cameFromCache)
        #expect(setting.entries.count == 1)
        let second = try setting.compile()
        #expect(second.cameFromCache)
        let sameBytes = bytes(of: second) == bytes(of: first)
        #expect(sameBytes)
        #expect(second.theorems.map(\.label) == first.theorems.map(\.label))
        #expect(second.image.fileDescriptor != nil)
        var status = stat()
        #expect(stat(setting.cache, &status) == 0 && status.st_mode & 0o777 == 0o700)
    }

    /// The same path, size, inode and modification time, other bytes: compiled again.
    @Test func aDatabaseChangedInPlaceUnderTheSameStampIsCompiledAgain() throws {
        let setting = Setting()
        _ = try setting.compile()
        var before = stat()
        #expect(stat(setting.database, &before) == 0)
        let changed = ProofFixtures.a1i(ProofFixtures.a1iProof).replacing("a1i $p", with: "a1j $p")
        let descriptor = open(setting.database, O_WRONLY)
        #expect(Array(changed.utf8).withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, 0) } == changed.utf8.count)
        var times = [before.st_atim, before.st_mtim]
        #expect(futimens(descriptor, &times) == 0)
        close(descriptor)
        let again = try setting.compile()
        #expect(!again.cameFromCache)
        #expect(again.theorem(labeled: "a1j") != nil && again.theorem(labeled: "a1i") == nil)
    }

    @Test func aDamagedImageIsNotUsedAndIsReplaced() throws {
        let setting = Setting()
        let first = try setting.compile()
        try setting.damageEntry(fromEnd: 9)
        let second = try setting.compile()
        #expect(!second.cameFromCache)
        let sameBytes = bytes(of: second) == bytes(of: first)
        #expect(sameBytes)
        let third = try setting.compile()
        #expect(third.cameFromCache)
    }

    @Test func aDamagedSourceCopyIsNotUsed() throws {
        let setting = Setting()
        _ = try setting.compile()
        // The source copy follows the key (32 bytes and the padded path) and two words.
        let pathBytes = (setting.database.utf8.count + 7) & ~7
        try setting.damageEntry(offset: 32 + pathBytes + 16 + 10)
        #expect(try setting.compile().cameFromCache == false)
        #expect(try setting.compile().cameFromCache)
    }

    @Test func aTruncatedEntryIsNotUsed() throws {
        let setting = Setting()
        _ = try setting.compile()
        let entry = try #require(setting.entries.first)
        var status = stat()
        #expect(stat(entry, &status) == 0)
        #expect(truncate(entry, status.st_size - 8) == 0)
        #expect(try setting.compile().cameFromCache == false)
    }

    /// An entry others may write is never read (it may have been planted).
    @Test func anEntryWritableByOthersIsNotRead() throws {
        let setting = Setting()
        _ = try setting.compile()
        let entry = try #require(setting.entries.first)
        #expect(chmod(entry, 0o666) == 0)
        #expect(try setting.compile().cameFromCache == false)
    }

    @Test func aCacheOpenToOthersIsRefused() throws {
        let setting = Setting()
        #expect(mkdir(setting.cache, 0o755) == 0)
        #expect(chmod(setting.cache, 0o755) == 0)
        do {
            _ = try setting.compile()
            Issue.record("a cache directory open to others was used")
        } catch {
            #expect(error.file == setting.cache)
            #expect(error.message == "the image cache must be private (mode 700), not mode 755")
        }
        #expect(setting.entries.isEmpty)
    }

    @Test func aCacheThatIsAFileIsRefused() throws {
        let setting = Setting()
        setting.directory.write("cache", "not a directory")
        #expect(throws: DatabaseError.self) { try setting.compile() }
    }

    @Test func aDatabaseWithAnIncludeIsNotCached() throws {
        let setting = Setting("$[ more.mm $]\n")
        setting.directory.write("more.mm", ProofFixtures.a1i(ProofFixtures.a1iProof))
        let database = try setting.compile()
        #expect(database.theorem(labeled: "a1i") != nil)
        #expect(setting.entries.isEmpty)
    }

    @Test func onlyTheMostRecentlyUsedEntriesAreKept() throws {
        let setting = Setting()
        _ = try setting.compile(limit: 2)
        for index in 1 ... 2 {
            let text = ProofFixtures.a1i(ProofFixtures.a1iProof) + "\n$( edit \(index) $)\n"
            setting.directory.write("db.mm", text)
            _ = try setting.compile(limit: 2)
        }
        #expect(setting.entries.count == 2)
        #expect(try setting.compile(limit: 2).cameFromCache)
    }

    /// The digest hashed on two threads is the digest (the split falls between any sections).
    @Test func theDigestOnTwoThreadsIsTheDigest() throws {
        var images = [try compile(ProofFixtures.a1i(ProofFixtures.a1iProof))]
        if let path = SharedData.path("iset.mm") { images.append(try CompiledDatabase.compile(path: path)) }
        for database in images {
            database.image.withBytes { bytes in
                #expect(ImageDigest.ofInParallel(image: bytes) == ImageDigest.of(image: bytes))
                #expect(ImageDigest.ofInParallel(image: bytes) == database.image.digest)
            }
        }
    }
}
