// The worker's errno type reads as swift-system's `Errno`, which the host and the plugins use:
// a failure shows users the same text whichever side reports it.
import PluginProtocol
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("SystemError")
struct SystemErrorTests {
    @Test("every errno code has the text Errno gives it")
    func sameTextAsErrno() {
        for code in Int32(1) ... 133 {
            #expect(SystemError(code: code).description == Errno(rawValue: code).description, "errno \(code)")
        }
        #expect(SystemError(code: ENOENT).description == "No such file or directory")
    }

    @Test("current is the errno of the last failed call")
    func currentIsErrno() {
        let result = close(-1)
        let error = SystemError.current
        #expect(result == -1)
        #expect(error == SystemError(code: EBADF))
    }
}
