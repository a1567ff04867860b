extension Optional: BinaryEncodable where Wrapped: BinaryEncodable {
    /// Writes a tag byte, `0` for `nil` or `1` followed by the wrapped value.
    @inlinable
    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .none:
            writer.writeByte(0)
        case .some(let value):
            writer.writeByte(1)
            value.encode(to: &writer)
        }
    }
}

extension Optional: BinaryDecodable where Wrapped: BinaryDecodable {
    /// Reads a tag byte (`0` or `1`) and, after `1`, the wrapped value.
    @inlinable
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .none
        case 1: self = .some(try Wrapped(from: &reader))
        case let tag: throw BinaryDecodingError(.invalidValue, at: start, "an Optional tag must be 0 or 1, not \(tag)")
        }
    }
}
