import Testing
@testable import MetamathKit
#if canImport(Glibc)
import Glibc
#endif

/// Writing, mapping and validating database images.
@Suite struct ImageTests {
    @Test func roundTripThroughAFile() throws {
        guard let path = SharedData.path("iset.mm") else { return }
        let database = try CompiledDatabase.compile(path: path)
        let directory = TemporaryDirectory()
        let imagePath = "\(directory.path)/iset.img"
        directory.track(imagePath)
        try database.image.write(to: imagePath)
        let bytes = try #require(readFile(imagePath))
        #expect(bytes.count == database.image.byteCount)
        #expect(database.image.withBytes { Array($0) } == bytes)

        let mapped = try MappedImage(path: imagePath, expectedDigest: database.image.digest)
        #expect(mapped.digest == database.image.digest)
        let verifier = Verifier(image: mapped)
        #expect(verifier.theoremCount == database.theorems.count)
        var verified = 0
        for theorem in database.theorems where verifier.verify(theorem: theorem.index) == .verified { verified += 1 }
        #expect(verified == 8573)
        let a1i = try #require(database.theorem(labeled: "a1i"))
        #expect(verifier.theoremInfo(index: a1i.index) == ("a1i", 574, path))
    }

    @Test func digestIsStableAcrossCompiles() throws {
        guard let path = SharedData.path("demo0.mm") else { return }
        let first = try CompiledDatabase.compile(path: path)
        let second = try CompiledDatabase.compile(path: path)
        #expect(first.image.digest == second.image.digest)
        #expect(first.image.withBytes { Array($0) } == second.image.withBytes { Array($0) })
    }

    @Test func differentDatabasesHaveDifferentDigests() throws {
        let a = try compile("$c a $.\n")
        let b = try compile("$c b $.\n")
        #expect(a.image.digest != b.image.digest)
    }

    /// The image of demo0.mm written to a fresh directory, with its bytes.
    private func demoImage() throws -> (database: CompiledDatabase, directory: TemporaryDirectory, bytes: [UInt8])? {
        guard let path = SharedData.path("demo0.mm") else { return nil }
        let database = try CompiledDatabase.compile(path: path)
        let directory = TemporaryDirectory()
        let bytes = database.image.withBytes { Array($0) }
        return (database, directory, bytes)
    }

    private func expectRejected(_ bytes: [UInt8], digest: UInt64, in directory: TemporaryDirectory, _ fragment: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let path = directory.writeBytes("bad.img", bytes)
        do {
            _ = try MappedImage(path: path, expectedDigest: digest)
            Issue.record("a bad image was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == path, sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncatedImageIsRejected() throws {
        guard let (database, directory, bytes) = try demoImage() else { return }
        expectRejected(Array(bytes.dropLast(100)), digest: database.image.digest, in: directory, "truncated")
        expectRejected(Array(bytes.prefix(20)), digest: database.image.digest, in: directory, "truncated")
        expectRejected([], digest: database.image.digest, in: directory, "truncated")
    }

    @Test func damagedImageIsRejected() throws {
        guard let (database, directory, bytes) = try demoImage() else { return }
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x40
        expectRejected(damaged, digest: database.image.digest, in: directory, "damaged")
        var badMagic = bytes
        badMagic[0] ^= 1
        expectRejected(badMagic, digest: database.image.digest, in: directory, "bad magic")
        var badVersion = bytes
        badVersion[8] &+= 1
        expectRejected(badVersion, digest: database.image.digest, in: directory, "format version")
        var badSection = bytes
        badSection[ImageLayout.sectionTableOffset + 7] = 0x7F
        expectRejected(badSection, digest: database.image.digest, in: directory, "outside the image")
    }

    /// Without content verification (the master's own file), the bytes are not re-hashed, but
    /// the header, section table and digest field still guard the mapping.
    @Test func trustedImagesSkipOnlyTheContentHash() throws {
        guard let (database, directory, bytes) = try demoImage() else { return }
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x40
        let path = directory.writeBytes("trusted.img", damaged)
        let mapped = try MappedImage(path: path, expectedDigest: database.image.digest, verifyingContent: false)
        #expect(mapped.digest == database.image.digest)
        var badMagic = bytes
        badMagic[0] ^= 1
        let badPath = directory.writeBytes("trusted-bad.img", badMagic)
        #expect(throws: DatabaseError.self) {
            _ = try MappedImage(path: badPath, expectedDigest: database.image.digest, verifyingContent: false)
        }
        #expect(throws: DatabaseError.self) {
            _ = try MappedImage(path: path, expectedDigest: database.image.digest &+ 1, verifyingContent: false)
        }
    }

    @Test func unexpectedDigestIsRejected() throws {
        guard let (database, directory, bytes) = try demoImage() else { return }
        expectRejected(bytes, digest: database.image.digest &+ 1, in: directory, "expected \(database.image.digest &+ 1)")
    }

    @Test func missingImageFile() {
        do {
            _ = try MappedImage(path: "/nonexistent/image.img", expectedDigest: 0)
            Issue.record("mapped a missing file")
        } catch {
            #expect(error.description == "/nonexistent/image.img: cannot read the database image: No such file or directory")
        }
    }

    @Test func writeReplacesAtomically() throws {
        let database = try compile("$c a $.\n")
        let directory = TemporaryDirectory()
        let path = directory.write("image.img", "old contents")
        try database.image.write(to: path)
        #expect(readFile(path) == database.image.withBytes { Array($0) })
        #expect(readFile("\(path).tmp-\(getpid())") == nil)
        do {
            try database.image.write(to: "/nonexistent/dir/image.img")
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.message.contains("cannot write the image"))
        }
    }
}
