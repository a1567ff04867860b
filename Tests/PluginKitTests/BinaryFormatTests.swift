// PluginKit's binary format: round trips, byte layout, and malformed or random input.
import PluginKit
import TestSupport
import Testing

@Suite("PluginKit binary format")
struct PluginKitBinaryFormatTests {
    @Test func integersRoundTrip() throws {
        try expectRoundTrips([Int.min, -1, 0, 1, 42, Int.max])
        try expectRoundTrips([Int8.min, -1, 0, Int8.max])
        try expectRoundTrips([Int16.min, -1, 0, Int16.max])
        try expectRoundTrips([Int32.min, -1, 0, Int32.max])
        try expectRoundTrips([Int64.min, -1, 0, Int64.max])
        try expectRoundTrips([UInt8.min, 0x7F, 0x80, UInt8.max])
        try expectRoundTrips([UInt16.min, 0x1234, UInt16.max])
        try expectRoundTrips([UInt32.min, 0x0102_0304, UInt32.max])
        try expectRoundTrips([UInt64.min, 0x0102_0304_0506_0708, UInt64.max])
        try expectRoundTrips([UInt.min, 7, UInt.max])
    }

    @Test func floatingPointRoundTripsBitForBit() throws {
        let doubles: [Double] = [0, -0.0, 1.5, -.pi, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        try expectRoundTrips(doubles)
        let floats: [Float] = [0, -0.0, 3.25, .infinity, .leastNormalMagnitude]
        try expectRoundTrips(floats)
        let nan = Double(bitPattern: 0x7FF8_0000_0000_1234)
        let decodedNaN = try Double(binaryEncoded: nan.binaryEncoded())
        #expect(decodedNaN.bitPattern == nan.bitPattern)
    }

    @Test func boolsStringsBytesArraysAndOptionalsRoundTrip() throws {
        try expectRoundTrips([true, false])
        try expectRoundTrips(["", "a", "héllo wörld", "emoji 🧪", "nul\u{0}inside", String(repeating: "x", count: 300)])
        try expectRoundTrips([[UInt8](), [0], [0, 1, 2, 255], [UInt8](repeating: 7, count: 1000)])
        try expectRoundTrips([[String](), ["a"], ["a", "", "b"]])
        try expectRoundTrips([[[Int]](), [[]], [[1, 2], [], [3]]])
        try expectRoundTrips([Int?.none, 5])
        try expectRoundTrips([String?.none, "x"])
        try expectRoundTrips([Int??.none, .some(.none), .some(.some(3))])
        try expectRoundTrips([[Int?](), [nil, 1, nil]])
        try expectRoundTrips([Sample.example, Sample(id: -1, name: "", tags: [], weight: nil, flags: [])])
    }

    @Test func layoutIsLittleEndianWithVarintLengths() {
        #expect(UInt32(0x0102_0304).binaryEncoded() == [4, 3, 2, 1])
        #expect(Int16(-2).binaryEncoded() == [0xFE, 0xFF])
        #expect(Int(1).binaryEncoded() == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(true.binaryEncoded() == [1])
        #expect(Double(1).binaryEncoded() == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect("hé".binaryEncoded() == [3, 0x68, 0xC3, 0xA9])
        #expect([UInt8](repeating: 9, count: 300).binaryEncoded().prefix(3) == [0xAC, 0x02, 9])
        #expect([Int32(1), 2].binaryEncoded() == [2, 1, 0, 0, 0, 2, 0, 0, 0])
        #expect(Int32?.none.binaryEncoded() == [0])
        #expect(Int32?.some(1).binaryEncoded() == [1, 1, 0, 0, 0])

        var writer = BinaryWriter()
        for value: UInt64 in [0, 127, 128, 16_383, 16_384, .max] {
            writer.writeVarint(value)
        }
        #expect(writer.bytes == [0, 0x7F, 0x80, 0x01, 0xFF, 0x7F, 0x80, 0x80, 0x01]
            + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test func malformedInputThrowsTheRightReason() {
        expectDecodingError(String.self, [5, 0x61], .lengthOutOfRange)
        expectDecodingError(String.self, [2, 0xC3, 0x28], .invalidUTF8)
        expectDecodingError(String.self, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .lengthOutOfRange)
        expectDecodingError([Int].self, [0x80, 0x80, 0x80, 0x80, 0x01], .lengthOutOfRange)
        expectDecodingError([UInt8].self, [0x80, 0x00], .malformedVarint)
        expectDecodingError([UInt8].self, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], .malformedVarint)
        expectDecodingError([UInt8].self, [0x80, 0x80], .truncated)
        expectDecodingError(Bool.self, [2], .invalidValue)
        expectDecodingError(Int?.self, [7], .invalidValue)
        expectDecodingError(UInt32.self, [1, 2, 3], .truncated)
        expectDecodingError(UInt8.self, [1, 2], .trailingBytes)
        expectDecodingError(Int64.self, [], .truncated)
    }

    @Test func errorsSayWhatAndWhere() throws {
        let error = try #require(throws: BinaryDecodingError.self) { try UInt64(binaryEncoded: [1, 2, 3]) }
        #expect(error.offset == 0)
        #expect(error.description == "truncated input at byte 0: a UInt64 needs 8 bytes, 3 left")
        let utf8 = try #require(throws: BinaryDecodingError.self) { try [String](binaryEncoded: [2, 1, 0x41, 1, 0xFF]) }
        #expect(utf8.offset == 4)
        #expect(utf8.description.contains("invalid UTF-8"))
    }

    @Test func everyTruncationOfAValidEncodingThrows() throws {
        func expectEveryPrefixThrows<T: BinaryCodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
            let bytes = value.binaryEncoded()
            for length in 0..<bytes.count {
                do {
                    let decoded = try T(binaryEncoded: Array(bytes.prefix(length)))
                    Issue.record("\(length) of \(bytes.count) bytes decoded as \(decoded)", sourceLocation: sourceLocation)
                } catch {
                    // A cut inside a value reads as truncated; a cut inside a string or array reads
                    // as a length longer than the bytes left.
                    #expect(error.reason == .truncated || error.reason == .lengthOutOfRange, sourceLocation: sourceLocation)
                }
            }
        }
        expectEveryPrefixThrows(Sample.example)
        expectEveryPrefixThrows(EchoLikeRequest(setup: "setup", index: 12, text: "hello"))
        expectEveryPrefixThrows([["a", "bc"], [], ["déf"]])
        expectEveryPrefixThrows([Int64?.none, 5, -7])
        expectEveryPrefixThrows(Double.pi)
        let cut = try #require(throws: BinaryDecodingError.self) {
            try Sample(binaryEncoded: Array(Sample.example.binaryEncoded().dropLast()))
        }
        #expect(cut.reason == .lengthOutOfRange)
        #expect(cut.description.contains("exceeds the 1 bytes left"))
    }

    /// Decoding random bytes must never trap: it either decodes or throws. When it decodes, the
    /// value re-encodes to exactly the same bytes (the format has one encoding per value).
    @Test func randomBytesDecodeOrThrowButNeverCrash() throws {
        var generator = SeededGenerator(seed: 0x5EED_1234_ABCD)
        var decoded = 0
        var rejected = 0
        for round in 0..<6000 {
            let bytes = randomInput(round: round, using: &generator)
            func attempt<T: BinaryCodable>(_ type: T.Type) {
                do {
                    let value = try T(binaryEncoded: bytes)
                    #expect(value.binaryEncoded() == bytes, "\(T.self) re-encodes \(bytes) differently")
                    decoded += 1
                } catch {
                    rejected += 1
                }
            }
            attempt(String.self)
            attempt([String].self)
            attempt([UInt8].self)
            attempt([Int].self)
            attempt([[UInt8]].self)
            attempt(Int?.self)
            attempt([Bool?].self)
            attempt(Double.self)
            attempt(UInt32.self)
            attempt(Sample.self)
            attempt(EchoLikeRequest.self)
        }
        // Both paths were exercised.
        #expect(decoded > 1000)
        #expect(rejected > 1000)
    }
}

private func expectRoundTrips<T: BinaryCodable & Equatable>(
    _ values: [T], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for value in values {
        let decoded = try T(binaryEncoded: value.binaryEncoded())
        #expect(decoded == value, sourceLocation: sourceLocation)
    }
    // The values as one array too.
    #expect(try [T](binaryEncoded: values.binaryEncoded()) == values, sourceLocation: sourceLocation)
}

private func expectDecodingError<T: BinaryDecodable>(
    _ type: T.Type, _ bytes: [UInt8], _ reason: BinaryDecodingError.Reason,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        _ = try T(binaryEncoded: bytes)
        Issue.record("\(T.self) decoded \(bytes)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.reason == reason, "\(error)", sourceLocation: sourceLocation)
    }
}
