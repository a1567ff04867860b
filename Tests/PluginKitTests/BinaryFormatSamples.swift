// Values and random input for the binary format tests.
import PluginKit
import TestSupport

/// A composite value exercising nested conformances.
struct Sample: BinaryCodable, Equatable {
    var id: Int64
    var name: String
    var tags: [String]
    var weight: Double?
    var flags: [Bool]

    static let example = Sample(id: 1 << 40, name: "sample ✓", tags: ["a", "", "long tag"], weight: 0.25, flags: [true, false])

    init(id: Int64, name: String, tags: [String], weight: Double?, flags: [Bool]) {
        self.id = id
        self.name = name
        self.tags = tags
        self.weight = weight
        self.flags = flags
    }

    func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(tags)
        writer.write(weight)
        writer.write(flags)
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        id = try reader.read()
        name = try reader.read()
        tags = try reader.read()
        weight = try reader.read()
        flags = try reader.read()
    }
}

/// The shape of echo-swift's request, to fuzz a realistic message.
struct EchoLikeRequest: BinaryCodable, Equatable {
    var setup: String?
    var index: Int
    var text: String

    init(setup: String?, index: Int, text: String) {
        self.setup = setup
        self.index = index
        self.text = text
    }

    func encode(to writer: inout BinaryWriter) {
        writer.write(setup)
        writer.write(index)
        writer.write(text)
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        setup = try reader.read()
        index = try reader.read()
        text = try reader.read()
    }
}

/// Random input biased towards bytes that look like encodings: small lengths, tags 0/1, ASCII,
/// and now and then huge varints or valid encodings with a byte flipped.
func randomInput(round: Int, using generator: inout SeededGenerator) -> [UInt8] {
    switch round % 4 {
    case 0:
        let count = Int.random(in: 0...24, using: &generator)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    case 1:
        let count = Int.random(in: 0...24, using: &generator)
        let alphabet: [UInt8] = [0, 1, 2, 3, 0x41, 0x61, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]
        return (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
    case 2:
        var bytes = Sample(
            id: Int64.random(in: -5...5, using: &generator), name: "n", tags: ["t"], weight: nil, flags: [true]
        ).binaryEncoded()
        let position = Int.random(in: 0..<bytes.count, using: &generator)
        bytes[position] ^= UInt8.random(in: 1...255, using: &generator)
        return bytes
    default:
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...10, using: &generator) {
            bytes.append(UInt8.random(in: 0x80...0xFF, using: &generator))
        }
        bytes.append(UInt8.random(in: 0...0x7F, using: &generator))
        bytes += (0..<Int.random(in: 0...4, using: &generator)).map { _ in UInt8(ascii: "z") }
        return bytes
    }
}
