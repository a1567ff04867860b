extension String: BinaryCodable {
    /// Writes the UTF-8 byte count as a varint, then the UTF-8 bytes.
    @inlinable
    public func encode(to writer: inout BinaryWriter) {
        let written: Void? = utf8.withContiguousStorageIfAvailable { bytes in
            writer.writeLength(bytes.count)
            writer.writeRawBytes(bytes)
        }
        if written == nil {
            writer.writeLength(utf8.count)
            writer.writeRawBytes(utf8)
        }
    }

    /// Reads a varint byte count and that many bytes, which must be valid UTF-8.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let count = try reader.readLength()
        self = try reader.readUTF8(count: count)
    }
}
