import Testing
@testable import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

/// Source files are read into private memory (a mapped file truncated by another process made
/// the next access fault with SIGBUS), a change during the read is reported, and an image is
/// either a sealed memory file nobody can truncate or read into memory too.
@Suite struct ChangingFileTests {
    /// A database of `count` trivial theorems.
    static func trivialTheorems(_ count: Int) -> String {
        "$c |- a $.\nax $a |- a $.\n" + (0 ..< count).map { "t\($0) $p |- a $= ax $.\n" }.joined()
    }

    /// Reads `path`, doing `change` to the file right after the first `read`.
    func readChanging(_ path: String, _ change: @escaping () -> Void) -> FileReadError? {
        do {
            _ = try FileContents(path: path, afterFirstRead: change)
            return nil
        } catch {
            return error
        }
    }

    @Test func aFileTruncatedWhileReadIsReportedAsChanged() {
        let directory = TemporaryDirectory()
        let path = directory.write("t.mm", Self.trivialTheorems(2_000))
        let error = readChanging(path) { truncate(path, 0) }
        #expect(error?.isChange == true, "\(String(describing: error))")
        #expect(error?.message == "changed while being read")
    }

    @Test func aFileRewrittenInPlaceWhileReadIsReportedAsChanged() {
        let directory = TemporaryDirectory()
        let path = directory.write("t.mm", Self.trivialTheorems(2_000))
        // Same size, other bytes: only the times tell.
        let error = readChanging(path) {
            let descriptor = open(path, O_WRONLY)
            _ = pwrite(descriptor, "$(", 2, 0)
            close(descriptor)
        }
        #expect(error?.isChange == true, "\(String(describing: error))")
    }

    @Test func aFileThatGrowsWhileReadIsReportedAsChanged() {
        let directory = TemporaryDirectory()
        let path = directory.write("t.mm", Self.trivialTheorems(2_000))
        let error = readChanging(path) {
            let descriptor = open(path, O_WRONLY | O_APPEND)
            _ = write(descriptor, "t $p |- a $= ax $.\n", 19)
            close(descriptor)
        }
        #expect(error?.isChange == true, "\(String(describing: error))")
    }

    @Test func aFileReplacedWhileReadIsReportedAsChanged() {
        let directory = TemporaryDirectory()
        let path = directory.write("t.mm", Self.trivialTheorems(2_000))
        let other = directory.write("other.mm", Self.trivialTheorems(1))
        let error = readChanging(path) { rename(other, path) }
        #expect(error?.isChange == true, "\(String(describing: error))")
    }

    @Test func anUnchangedFileIsReadWhole() throws {
        let directory = TemporaryDirectory()
        let text = Self.trivialTheorems(2_000)
        let path = directory.write("t.mm", text)
        var calls = 0
        let contents = try FileContents(path: path) { calls += 1 }
        #expect(calls == 1)
        #expect(Array(contents.bytes) == Array(text.utf8))
        #expect(try FileContents(path: directory.write("empty.mm", "")).bytes.count == 0)
    }

    /// `/proc` files say they have 0 bytes: their content is read all the same and parsed
    /// (this one is not Metamath), instead of being taken for an empty database.
    @Test func aFileWhoseSizeReadsAsZeroIsReadToItsEnd() {
        do {
            let database = try CompiledDatabase.compile(path: "/proc/self/status")
            Issue.record("/proc/self/status compiled, with \(database.theorems.count) theorems")
        } catch {
            #expect(error.file == "/proc/self/status" && error.line == 1, "\(error)")
            #expect(error.message.contains("Name:"), "\(error)")
        }
    }

    /// The image of an unlinked file can be truncated by its owner: a verifier reads it into
    /// memory, so truncating it afterwards cannot make verification fault (it did: SIGBUS).
    @Test func anUnsealedImageIsReadSoTruncatingItLaterIsHarmless() throws {
        let directory = TemporaryDirectory()
        let path = directory.write("t.mm", Self.trivialTheorems(20_000))
        let database = try CompiledDatabase.compile(path: path, placement: .unlinkedFile(directories: [directory.path]))
        let descriptor = try #require(database.image.fileDescriptor)
        let image = try MappedImage(path: "/proc/self/fd/\(descriptor)", expectedDigest: database.image.digest)
        #expect(!image.isMapped)
        // What another process of the same user can do through /proc/PID/fd/N.
        let writable = open("/proc/self/fd/\(descriptor)", O_RDWR)
        #expect(writable >= 0)
        #expect(ftruncate(writable, 0) == 0)
        close(writable)
        let verifier = Verifier(image: image)
        #expect(database.theorems.allSatisfy { verifier.verify(theorem: $0.index) == .verified })
    }

    /// The image in a sealed memory file is mapped, and nobody can truncate or write it.
    @Test func aSealedImageCannotBeTruncatedOrWritten() throws {
        let directory = TemporaryDirectory()
        let path = directory.write("t.mm", Self.trivialTheorems(20_000))
        let database = try CompiledDatabase.compile(path: path, placement: .sealedMemoryFile(fallback: []))
        let descriptor = try #require(database.image.fileDescriptor)
        let image = try MappedImage(path: "/proc/self/fd/\(descriptor)", expectedDigest: database.image.digest)
        #expect(image.isMapped)
        let writable = open("/proc/self/fd/\(descriptor)", O_RDWR)
        #expect(writable >= 0)
        #expect(ftruncate(writable, 0) != 0 && errno == EPERM)
        #expect(pwrite(writable, "x", 1, 0) < 0 && errno == EPERM)
        close(writable)
        let verifier = Verifier(image: image)
        #expect(database.theorems.allSatisfy { verifier.verify(theorem: $0.index) == .verified })
        // The master's own verifier reads the same bytes.
        let local = Verifier(database: database)
        #expect(local.verify(theorem: database.theorems[0].index) == .verified)
    }
}
