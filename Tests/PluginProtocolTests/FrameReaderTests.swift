// The blocking frame reader over a real pipe: it starts with small reads (a fresh worker's
// buffer stays one page) and doubles them while they come back full, up to 64 KiB.
import Glibc
import PluginProtocol
import Testing

@Suite("Frame reader")
struct FrameReaderTests {
    @Test("reads start at 4 KiB and double while full, up to 64 KiB; the frames arrive whole")
    func readSizesGrow() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        // Two frames, 60 KiB and 4 bytes, written before the first read (they fit in the pipe),
        // so each read returns all it asks for until the bytes run out.
        let big = Frame(type: .request, id: 7, payload: (0..<(60 * 1024)).map { UInt8(truncatingIfNeeded: $0) })
        let small = Frame(type: .response, id: 8, payload: [1, 2, 3, 4])
        var bytes: [UInt8] = []
        big.encode(into: &bytes)
        small.encode(into: &bytes)
        try bytes.withUnsafeBytes { try Descriptor(fds[1]).writeAll($0) }
        close(fds[1])

        var reader = FrameReader(descriptor: Descriptor(fds[0]))
        var reads: [Int] = []
        reader.onBytes = { reads.append($0) }
        #expect(try reader.next() == big)
        #expect(try reader.next() == small)
        #expect(try reader.next() == nil)
        let total = bytes.count
        #expect(reads == [4096, 8192, 16384, 32768, total - 61440])
    }

    @Test("a read that comes back short does not grow the next one")
    func shortReadsStaySmall() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var reader = FrameReader(descriptor: Descriptor(fds[0]))
        var reads: [Int] = []
        reader.onBytes = { reads.append($0) }
        for id in 0..<3 {
            var bytes: [UInt8] = []
            Frame(type: .request, id: UInt64(id), payload: [UInt8](repeating: 9, count: 3000)).encode(into: &bytes)
            try bytes.withUnsafeBytes { try Descriptor(fds[1]).writeAll($0) }
            #expect(try reader.next()?.id == UInt64(id))
        }
        close(fds[1])
        #expect(try reader.next() == nil)
        #expect(reads == [3016, 3016, 3016])
    }
}
