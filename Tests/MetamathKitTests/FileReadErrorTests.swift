// What a file that cannot be read says after its name: errno's text, or what the file is.
import Testing
@testable import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

@Suite struct FileReadErrorTests {
    @Test func aFailedCallSaysErrnosText() {
        let descriptor = open("/nonexistent/file.mm", O_RDONLY)
        let error = FileReadError.current
        #expect(descriptor == -1)
        #expect(error.message == "No such file or directory")
        #expect(!error.isChange)
    }

    @Test func theOtherFailuresSayWhatTheFileIs() {
        #expect(FileReadError.notRegularFile.message == "not a regular file")
        #expect(FileReadError.shorterThanImage.message == "the file is shorter than the image")
        #expect(FileReadError.changedWhileRead.message == "changed while being read")
        #expect(FileReadError.changedWhileRead.isChange)
        #expect(!FileReadError.notRegularFile.isChange)
    }
}
