// The one EINTR retry of the host, the worker and the protocol layer: an interrupted call is
// made again, any other failure is returned with its errno.
import PluginProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Retrying on interrupt")
struct RetryingOnInterruptTests {
    @Test("a call interrupted twice is made a third time and its result returned")
    func interruptedCallIsRetried() {
        var calls = 0
        let result = retryingOnInterrupt { () -> Int in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 42
        }
        #expect(result == 42)
        #expect(calls == 3)
    }

    @Test("another failure is returned at once, errno intact")
    func otherFailureIsReturned() {
        var calls = 0
        let result = retryingOnInterrupt { () -> Int32 in
            calls += 1
            errno = EBADF
            return -1
        }
        #expect(result == -1)
        #expect(errno == EBADF)
        #expect(calls == 1)
    }

    @Test("Descriptor reads through it: a real read of a pipe")
    func descriptorReadsAPipe() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let writer = Descriptor(ends[1])
        try [UInt8]("abc".utf8).withUnsafeBytes { try writer.writeAll($0) }
        writer.close()
        var buffer = [UInt8](repeating: 0, count: 8)
        let count = try buffer.withUnsafeMutableBytes { try Descriptor(ends[0]).read(into: $0) }
        #expect(Array(buffer[0..<count]) == Array("abc".utf8))
    }
}
