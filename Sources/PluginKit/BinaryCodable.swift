/// A value that can write itself in PluginKit's binary format.
///
/// PluginKit moves every task, request, response, competence and feedback message across the
/// plugin ABI as bytes. Conforming types write themselves field by field with a ``BinaryWriter``;
/// ``BinaryDecodable`` types read the same fields back, in the same order, with a ``BinaryReader``.
///
/// ## The format
///
/// - Fixed-width integers are little-endian two's complement at their natural width
///   (`Int` and `UInt` always take 8 bytes, so the format does not depend on the platform).
/// - `Bool` is one byte, `0` or `1`; any other byte is a decoding error.
/// - `Double` and `Float` are their IEEE 754 bit patterns as `UInt64` / `UInt32`.
/// - Lengths and counts are unsigned LEB128 varints (7 bits per byte, low bits first, at most
///   10 bytes, minimal form only).
/// - `String` is its UTF-8 byte count followed by the bytes; invalid UTF-8 is a decoding error.
/// - `Array` is its element count followed by the elements; `[UInt8]` is therefore a byte count
///   followed by raw bytes.
/// - `Optional` is a tag byte, `0` for `nil` or `1` followed by the wrapped value.
///
/// Encoding cannot fail. Decoding checks every length against the bytes left before it
/// allocates, so truncated, oversized or corrupt input throws a ``BinaryDecodingError`` and
/// never traps or allocates more than the input's size.
public protocol BinaryEncodable {
    /// Appends this value's encoding to `writer`.
    func encode(to writer: inout BinaryWriter)
}

/// A value that can read itself back from PluginKit's binary format.
///
/// See ``BinaryEncodable`` for the format. An implementation reads its fields in the order its
/// `encode(to:)` wrote them and throws ``BinaryDecodingError`` for input it cannot accept; the
/// ``BinaryReader`` already throws for truncated input.
public protocol BinaryDecodable {
    /// Reads one value from `reader`, advancing it past the value's bytes.
    init(from reader: inout BinaryReader) throws(BinaryDecodingError)
}

/// A value that can be both written and read in PluginKit's binary format.
public typealias BinaryCodable = BinaryEncodable & BinaryDecodable

extension BinaryEncodable {
    /// This value's encoding as a fresh byte array.
    public func binaryEncoded() -> [UInt8] {
        var writer = BinaryWriter()
        encode(to: &writer)
        return writer.bytes
    }
}
