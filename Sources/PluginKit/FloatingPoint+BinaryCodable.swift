// Floating-point numbers travel as their IEEE 754 bit patterns, so every value (NaN payloads,
// signed zeros, infinities) round-trips exactly.

extension Double: BinaryCodable {
    /// Writes the bit pattern as a `UInt64` (8 bytes, little-endian).
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeInteger(bitPattern) }
    /// Reads a `UInt64` bit pattern.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        self = Double(bitPattern: try reader.readInteger())
    }
}

extension Float: BinaryCodable {
    /// Writes the bit pattern as a `UInt32` (4 bytes, little-endian).
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeInteger(bitPattern) }
    /// Reads a `UInt32` bit pattern.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        self = Float(bitPattern: try reader.readInteger())
    }
}
