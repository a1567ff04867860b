// Fixed-width integers: little-endian two's complement at their natural width. `Int` and `UInt`
// travel as 8 bytes on every platform; decoding one that does not fit the platform throws.

extension BinaryEncodable where Self: FixedWidthInteger & BitwiseCopyable {
    /// Writes the value at its natural width, little-endian.
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeInteger(self) }
}

extension BinaryDecodable where Self: FixedWidthInteger & BitwiseCopyable {
    /// Reads the value at its natural width, little-endian.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) { self = try reader.readInteger() }
}

extension Int16: BinaryCodable {}
extension Int32: BinaryCodable {}
extension Int64: BinaryCodable {}
extension UInt16: BinaryCodable {}
extension UInt32: BinaryCodable {}
extension UInt64: BinaryCodable {}

extension Int8: BinaryCodable {}

extension UInt8: BinaryCodable {
    /// Writes the byte.
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeByte(self) }
    /// Reads 1 byte.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) { self = try reader.readByte() }
}

extension Int: BinaryCodable {
    /// Writes the value as an `Int64` (8 bytes, little-endian).
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeInteger(Int64(self)) }
    /// Reads an `Int64`; throws if it does not fit this platform's `Int`.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let start = reader.offset
        let wide: Int64 = try reader.readInteger()
        guard let value = Int(exactly: wide) else {
            throw BinaryDecodingError(.invalidValue, at: start, "\(wide) does not fit in an Int")
        }
        self = value
    }
}

extension UInt: BinaryCodable {
    /// Writes the value as a `UInt64` (8 bytes, little-endian).
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeInteger(UInt64(self)) }
    /// Reads a `UInt64`; throws if it does not fit this platform's `UInt`.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let start = reader.offset
        let wide: UInt64 = try reader.readInteger()
        guard let value = UInt(exactly: wide) else {
            throw BinaryDecodingError(.invalidValue, at: start, "\(wide) does not fit in a UInt")
        }
        self = value
    }
}
