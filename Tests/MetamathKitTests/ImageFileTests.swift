import Testing
@testable import MetamathKit
#if canImport(Glibc)
import Glibc
#endif

/// Images written to unlinked files (the master's placement) and the digest they carry.
@Suite struct ImageFileTests {
    /// The bytes of a mapped image.
    private func bytes(of image: DatabaseImage) -> [UInt8] { image.withBytes { Array($0) } }

    /// The digest is XXH64 with seed 0 (reference values from the xxHash project).
    @Test func digestIsXXH64() {
        func digest(_ text: String) -> UInt64 { Array(text.utf8).withUnsafeBytes { Digest.of($0) } }
        #expect(digest("") == 0xEF46_DB37_51D8_E999)
        #expect(digest("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(digest("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(digest("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
    }

    @Test func streamedDigestEqualsTheDigestOfTheWhole() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 7, 31, 32, 33, 63, 64, 100, 1_000, 4_099] {
            let data = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            let whole = data.withUnsafeBytes { Digest.of($0) }
            #expect(length > 0 || whole == Digest.Stream().finish())
            for _ in 0 ..< 20 {
                var stream = Digest.Stream()
                var position = 0
                while position < length {
                    let piece = Int.random(in: 0 ... min(70, length - position), using: &generator)
                    data.withUnsafeBytes { stream.update(UnsafeRawBufferPointer(rebasing: $0[position ..< position + piece])) }
                    position += piece
                }
                #expect(stream.finish() == whole, "length \(length)")
            }
        }
    }

    @Test func aFileImageHasTheBytesOfAMemoryImage() throws {
        guard let path = SharedData.path("iset.mm") else { return }
        let directory = TemporaryDirectory()
        let inMemory = try CompiledDatabase.compile(path: path)
        let inFile = try CompiledDatabase.compile(path: path, placement: .unlinkedFile(directories: [directory.path]))
        let descriptor = try #require(inFile.image.fileDescriptor)
        var status = stat()
        #expect(fstat(descriptor, &status) == 0 && Int(status.st_size) == inFile.image.byteCount)
        #expect(bytes(of: inFile.image) == bytes(of: inMemory.image))
        #expect(inFile.image.withBytes { ImageDigest.of(image: $0) } == inMemory.image.digest)
    }

    /// A proof longer than the staging buffer's direct-write threshold (64 KB) and short ones
    /// around it land in the file in order.
    @Test func longProofTextsAreWrittenWhole() throws {
        let steps = Array(repeating: "wp", count: 40_000).joined(separator: " ")
        let text = """
            $c wff $.
            $v p $.
            wp $f wff p $.
            short $p wff p $= wp $.
            long $p wff p $= \(steps) $.
            after $p wff p $= wp $.
            """
        let directory = TemporaryDirectory()
        let path = directory.write("long.mm", text)
        let inMemory = try CompiledDatabase.compile(path: path)
        let inFile = try CompiledDatabase.compile(path: path, placement: .unlinkedFile(directories: [directory.path]))
        #expect(bytes(of: inFile.image) == bytes(of: inMemory.image))
        #expect(inFile.image.withBytes { ImageDigest.of(image: $0) } == inFile.image.digest)
        #expect(inFile.image.byteCount > steps.utf8.count)
        let verifier = Verifier(database: inFile)
        let results = inFile.theorems.map { verifier.verify(theorem: $0.index) }
        #expect(results[0] == .verified && results[2] == .verified)
        // 40,000 pushes and nothing to combine them: the whole text was read.
        guard case .failed(let failure) = results[1] else {
            Issue.record("the long proof verified: \(results[1])")
            return
        }
        #expect(failure.message.contains("40000"), "\(failure)")
    }

    /// The reserved space is only a guess: an image larger than it, or a first directory that
    /// cannot hold it, still ends up whole (in the next directory, for the latter).
    @Test func reservationsTooSmallAndDirectoriesThatFail() throws {
        guard let path = SharedData.path("demo0.mm") else { return }
        let directory = TemporaryDirectory()
        let expected = bytes(of: try CompiledDatabase.compile(path: path).image)

        var parser = try DatabaseParser(path: path)
        try parser.parse()
        let small = try #require(ImageFileReservation.allocate(64, in: [.directory("/nonexistent"), .directory(directory.path)]))
        #expect(small.location == .directory(directory.path))
        let grown = try parser.buildImage(placement: .unlinkedFile(directories: [directory.path]), reserved: small)
        #expect(bytes(of: DatabaseImage(storage: grown)) == expected)

        let fallback = try parser.buildImage(placement: .unlinkedFile(directories: ["/nonexistent", directory.path]), reserved: nil)
        #expect(bytes(of: DatabaseImage(storage: fallback)) == expected)

        do {
            _ = try parser.buildImage(placement: .unlinkedFile(directories: ["/nonexistent", "/proc"]), reserved: nil)
            Issue.record("wrote an image nowhere")
        } catch {
            #expect(error.message.hasPrefix("cannot write the database image"))
            #expect(error.message.contains("/nonexistent: No such file or directory"))
            #expect(error.message.contains("/proc:"))
        }
    }
}
