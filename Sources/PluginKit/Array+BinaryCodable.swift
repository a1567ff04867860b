extension Array: BinaryEncodable where Element: BinaryEncodable {
    /// Writes the element count as a varint, then each element.
    ///
    /// `[UInt8]` takes a fast path that appends the bytes in one copy; the encoding is the same.
    @inlinable
    public func encode(to writer: inout BinaryWriter) {
        writer.writeLength(count)
        if Element.self == UInt8.self {
            // Element is UInt8 (checked above), so the two array types are the same type.
            writer.writeRawBytes(unsafeBitCast(self, to: [UInt8].self))
            return
        }
        for element in self {
            element.encode(to: &writer)
        }
    }
}

extension Array: BinaryDecodable where Element: BinaryDecodable {
    /// Reads a varint element count, then that many elements.
    ///
    /// The count must not exceed the bytes left (every element takes at least one byte in the
    /// standard conformances), which bounds the work and memory spent on corrupt input. A
    /// custom element type whose encoding can be empty is therefore limited to as many elements
    /// as there are bytes after the count.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let count = try reader.readLength()
        if Element.self == UInt8.self {
            let bytes = try reader.readBytes(count: count)
            // Element is UInt8 (checked above), so the two array types are the same type.
            self = unsafeBitCast(bytes, to: [Element].self)
            return
        }
        var elements: [Element] = []
        elements.reserveCapacity(Swift.min(count, 4096))
        for _ in 0..<count {
            elements.append(try Element(from: &reader))
        }
        self = elements
    }
}
