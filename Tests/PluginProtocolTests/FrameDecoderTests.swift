// Property tests of the wire layer: the incremental decoder never traps, whatever bytes and chunk
// sizes it is fed; valid frames decode identically however the stream is split; limits and
// malformed headers throw; the handshake payload round-trips and truncations throw.
import PluginProtocol
import TestSupport
import Testing

@Suite("Frame decoder and hello")
struct FrameDecoderTests {
    /// Feeds `bytes` in chunks chosen by `generator`, draining frames after each chunk. Returns the
    /// frames and the error that stopped decoding, if any.
    static func decode(_ bytes: [UInt8], chunks generator: inout SeededGenerator, maxChunk: Int,
                       maximumPayload: Int = Frame.defaultMaximumPayload) -> (frames: [Frame], error: FrameError?) {
        var decoder = FrameDecoder(maximumPayload: maximumPayload)
        var frames: [Frame] = []
        var offset = 0
        while offset < bytes.count {
            let size = Int.random(in: 1...maxChunk, using: &generator)
            let end = min(bytes.count, offset + size)
            decoder.feed(bytes[offset..<end])
            offset = end
            do {
                while let frame = try decoder.next() { frames.append(frame) }
            } catch {
                // A failed decoder stays failed.
                do { _ = try decoder.next(); Issue.record("decoder recovered after \(error)") } catch let again {
                    #expect(again == error)
                }
                return (frames, error)
            }
        }
        do { try decoder.finish() } catch { return (frames, error) }
        #expect(decoder.bufferedByteCount == 0)
        return (frames, nil)
    }

    static func randomFrame(using generator: inout SeededGenerator, maxPayload: Int = 300) -> Frame {
        let type = FrameType.allCases.randomElement(using: &generator)!
        let length = Int.random(in: 0...maxPayload, using: &generator)
        let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Frame(type: type, id: UInt64.random(in: 0...UInt64.max, using: &generator), payload: payload)
    }

    static func encode(_ frames: [Frame]) -> [UInt8] {
        var bytes: [UInt8] = []
        for frame in frames { frame.encode(into: &bytes) }
        return bytes
    }

    @Test("random bytes in random chunks never crash: frames or a FrameError")
    func randomBytesNeverCrash() async {
        var generator = SeededGenerator(seed: 0x5EED_0001)
        var errors = 0
        var framesSeen = 0
        for round in 0..<5_000 {
            if round % 100 == 0 { await Task.yield() }  // CPU-bound: let other tests run
            let length = Int.random(in: 0...200, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Every third input starts with a plausible header so decoding gets past the magic check.
            if round % 3 == 0 && bytes.count >= 16 {
                bytes[5] = Frame.magic
                bytes[6] = 0
                bytes[7] = 0
                bytes[4] = UInt8.random(in: 0...7, using: &generator)
                bytes[1] = 0; bytes[2] = 0; bytes[3] = 0
            }
            let limit = round % 2 == 0 ? Frame.defaultMaximumPayload : Int.random(in: 0...64, using: &generator)
            let (frames, error) = Self.decode(bytes, chunks: &generator, maxChunk: 40, maximumPayload: limit)
            framesSeen += frames.count
            if error != nil { errors += 1 }
            // Whatever decoded re-encodes to a prefix of the input.
            let prefix = Self.encode(frames)
            #expect(Array(bytes.prefix(prefix.count)) == prefix)
        }
        #expect(errors > 0)
        #expect(framesSeen > 0)
    }

    @Test("valid frames followed by random junk: the frames come out, then an error or a truncation")
    func framesThenJunk() async {
        var generator = SeededGenerator(seed: 0x5EED_0002)
        for round in 0..<1_000 {
            if round % 100 == 0 { await Task.yield() }
            let frames = (0..<Int.random(in: 1...4, using: &generator)).map { _ in Self.randomFrame(using: &generator, maxPayload: 40) }
            var bytes = Self.encode(frames)
            let junk = Int.random(in: 1...40, using: &generator)
            bytes += (0..<junk).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let (decoded, error) = Self.decode(bytes, chunks: &generator, maxChunk: 64)
            #expect(Array(decoded.prefix(frames.count)) == frames)
            if decoded.count == frames.count { #expect(error != nil, "junk must not end cleanly") }
        }
    }

    @Test("valid frames split at every offset decode identically")
    func splitAtEveryOffset() async {
        var generator = SeededGenerator(seed: 0x5EED_0003)
        let frames = (0..<6).map { _ in Self.randomFrame(using: &generator, maxPayload: 50) }
            + [Frame(type: .hello), Frame(type: .request, id: .max, payload: [0xA7])]
        let bytes = Self.encode(frames)
        #expect(bytes.count == frames.reduce(0) { $0 + Frame.headerSize + $1.payload.count })
        for cut in 0...bytes.count {
            if cut % 50 == 0 { await Task.yield() }
            var decoder = FrameDecoder()
            var out: [Frame] = []
            decoder.feed(bytes[..<cut])
            while let frame = try? decoder.next() { out.append(frame) }
            decoder.feed(bytes[cut...])
            do {
                while let frame = try decoder.next() { out.append(frame) }
                try decoder.finish()
            } catch {
                Issue.record("split at \(cut): \(error)")
            }
            #expect(out == frames, "split at \(cut)")
        }
        // And byte by byte, and in random chunks.
        var generator2 = SeededGenerator(seed: 7)
        #expect(Self.decode(bytes, chunks: &generator2, maxChunk: 1).frames == frames)
        for _ in 0..<200 {
            let (out, error) = Self.decode(bytes, chunks: &generator2, maxChunk: 97)
            #expect(out == frames && error == nil)
        }
    }

    @Test("a truncated stream reports truncated at finish")
    func truncatedStream() {
        var bytes: [UInt8] = []
        Frame(type: .response, id: 3, payload: Array("hello".utf8)).encode(into: &bytes)
        for cut in 1..<bytes.count {
            var decoder = FrameDecoder()
            decoder.feed(bytes[..<cut])
            do { #expect(try decoder.next() == nil, "needs more bytes") } catch { Issue.record("unexpected \(error)") }
            #expect(throws: FrameError.truncated) { try decoder.finish() }
        }
    }

    @Test("a length over the limit throws tooLarge, as soon as the header is in")
    func oversizeLengthThrows() {
        var header: [UInt8] = []
        Frame.encodeHeader(type: .response, id: 1, payloadLength: 1_001, into: &header)
        var decoder = FrameDecoder(maximumPayload: 1_000)
        decoder.feed(header)
        #expect(throws: FrameError.tooLarge(length: 1_001, limit: 1_000)) { try decoder.next() }
        #expect(throws: FrameError.tooLarge(length: 1_001, limit: 1_000)) { try decoder.next() }

        var atLimit: [UInt8] = []
        Frame(type: .response, id: 1, payload: [UInt8](repeating: 9, count: 1_000)).encode(into: &atLimit)
        var accepting = FrameDecoder(maximumPayload: 1_000)
        accepting.feed(atLimit)
        #expect((try? accepting.next())?.payload.count == 1_000)

        // The default limit with a 4 GiB - 1 length.
        var huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, FrameType.response.rawValue, Frame.magic, 0, 0]
        huge += [UInt8](repeating: 0, count: 8)
        var defaultDecoder = FrameDecoder()
        defaultDecoder.feed(huge)
        #expect(throws: FrameError.tooLarge(length: 0xFFFF_FFFF, limit: Frame.defaultMaximumPayload)) { try defaultDecoder.next() }
    }

    @Test("bad magic, reserved bytes or type throw the matching error")
    func malformedHeaders() {
        var good: [UInt8] = []
        Frame.encodeHeader(type: .feedback, id: 9, payloadLength: 0, into: &good)
        var badMagic = good; badMagic[5] = 0xFF
        var badReserved = good; badReserved[7] = 1
        var badType = good; badType[4] = 0x7E
        var zeroType = good; zeroType[4] = 0
        for (bytes, expected) in [(badMagic, FrameError.badHeader), (badReserved, .badHeader),
                                  (badType, .unknownType(0x7E)), (zeroType, .unknownType(0))] {
            var decoder = FrameDecoder()
            decoder.feed(bytes)
            #expect(throws: expected) { try decoder.next() }
            #expect(throws: expected) { try decoder.finish() }
        }
        // The chaos plugin's `garbage`: 64 bytes of 0xFF.
        var decoder = FrameDecoder()
        decoder.feed([UInt8](repeating: 0xFF, count: 64))
        #expect(throws: FrameError.badHeader) { try decoder.next() }
        #expect(FrameError.badHeader.description.hasPrefix("malformed frame"))
    }

    @Test("the header layout is little-endian: length, type, magic, reserved, id")
    func headerLayout() {
        var bytes: [UInt8] = []
        Frame(type: .request, id: 0x0102_0304_0506_0708, payload: [1, 2, 3]).encode(into: &bytes)
        #expect(bytes == [3, 0, 0, 0, 2, 0xA7, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3])
    }

    @Test("a task-failure frame is type 11 and round-trips with its message; protocol 3 has it")
    func taskFailureFrame() throws {
        var bytes: [UInt8] = []
        let message = Array("no such theorem: ax-1 é".utf8)
        Frame(type: .taskFailure, id: 7, payload: message).encode(into: &bytes)
        #expect(Array(bytes[4..<6]) == [11, Frame.magic])
        var decoder = FrameDecoder()
        decoder.feed(bytes)
        let frame = try #require(try decoder.next())
        #expect(frame.type == .taskFailure)
        #expect(frame.id == 7)
        #expect(frame.payload == message)
        #expect(try decoder.next() == nil)
        #expect(Hello.currentProtocolVersion == 3, "a new frame type is a new protocol version")
    }

    static func randomHello(using generator: inout SeededGenerator) -> Hello {
        let names = ["chaos", "", "é", "a-very-long-plugin-name-" + String(repeating: "x", count: 200), "🧪"]
        return Hello(protocolVersion: UInt32.random(in: 0...UInt32.max, using: &generator),
                     abiMajor: UInt32.random(in: 0...5, using: &generator),
                     abiMinor: UInt32.random(in: 0...UInt32.max, using: &generator),
                     pid: Int32.random(in: Int32.min...Int32.max, using: &generator),
                     pluginDigest: UInt64.random(in: 0...UInt64.max, using: &generator),
                     pluginName: names.randomElement(using: &generator)!,
                     pluginVersion: names.randomElement(using: &generator)!)
    }

    @Test("Hello round-trips; every truncation of it throws")
    func helloRoundTripAndTruncation() async throws {
        var generator = SeededGenerator(seed: 0x5EED_0004)
        for round in 0..<300 {
            if round % 20 == 0 { await Task.yield() }
            let hello = Self.randomHello(using: &generator)
            let payload = hello.encoded()
            #expect(try Hello(decoding: payload) == hello)
            for cut in 0..<payload.count {
                #expect(throws: FrameError.self) { try Hello(decoding: Array(payload[..<cut])) }
            }
            // Inside a frame, through the decoder.
            var bytes: [UInt8] = []
            Frame(type: .hello, payload: payload).encode(into: &bytes)
            var decoder = FrameDecoder()
            decoder.feed(bytes)
            let frame = try #require(try decoder.next())
            #expect(frame.type == .hello)
            #expect(try Hello(decoding: frame.payload) == hello)
        }
        let fixed = Hello(abiMajor: 1, abiMinor: 0, pid: 42, pluginDigest: 7, pluginName: "chaos", pluginVersion: "1.0.0")
        #expect(fixed.protocolVersion == Hello.currentProtocolVersion)
        let expectedSize: Int = 16 + 8 + 4 + 5 + 4 + 5  // 4 u32, digest, then two length-prefixed strings
        #expect(fixed.encoded().count == expectedSize)
    }

    @Test("Hello with invalid UTF-8 or a huge string length throws; random payloads never crash")
    func helloMalformed() async {
        let good = Hello(abiMajor: 1, abiMinor: 0, pid: 1, pluginDigest: 0, pluginName: "ab", pluginVersion: "v").encoded()
        var badUTF8 = good
        badUTF8[28] = 0xFF  // first byte of the name ("a")
        #expect(throws: FrameError.malformedPayload("hello carries invalid UTF-8")) { try Hello(decoding: badUTF8) }
        var hugeLength = good
        hugeLength[24] = 0xFF; hugeLength[25] = 0xFF; hugeLength[26] = 0xFF; hugeLength[27] = 0xFF
        #expect(throws: FrameError.malformedPayload("hello is truncated")) { try Hello(decoding: hugeLength) }

        var generator = SeededGenerator(seed: 0x5EED_0005)
        for round in 0..<3_000 {
            if round % 200 == 0 { await Task.yield() }
            let payload = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                let hello = try Hello(decoding: payload)
                // Whatever decodes re-encodes to the consumed prefix.
                let again = hello.encoded()
                #expect(Array(payload.prefix(again.count)) == again)
            } catch {
                // Any FrameError is fine.
            }
        }
    }
}
