extension Bool: BinaryCodable {
    /// Writes one byte: `1` for true, `0` for false.
    @inlinable
    public func encode(to writer: inout BinaryWriter) { writer.writeByte(self ? 1 : 0) }

    /// Reads one byte, which must be `0` or `1`.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = false
        case 1: self = true
        case let byte: throw BinaryDecodingError(.invalidValue, at: start, "a Bool must be 0 or 1, not \(byte)")
        }
    }
}
