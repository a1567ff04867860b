/// Reads encoded values from a borrowed byte buffer.
///
/// Conformances of ``BinaryDecodable`` receive a reader `inout` and read their fields in the
/// order they were written. Every read checks the bytes left first and throws
/// ``BinaryDecodingError`` instead of reading past the end; lengths are checked against the bytes
/// left before anything is allocated, so corrupt input can neither trap nor exhaust memory.
///
/// A reader is a view of memory PluginKit borrows for one call (a message from the host, or an
/// array being decoded). It is non-copyable and has no public initializer so that it cannot
/// outlive that borrow: decode whole buffers with ``BinaryDecodable/init(binaryEncoded:)``.
///
/// Apart from the ABI edge (`ABIEdge.swift`), this is the only code in PluginKit that reads
/// through a pointer it was given, and it does so only after a bounds check.
public struct BinaryReader: ~Copyable {
    @usableFromInline
    let buffer: UnsafeBufferPointer<UInt8>

    @usableFromInline
    var position: Int

    /// Wraps `buffer` for the duration of one decoding call.
    @inlinable
    init(borrowing buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
        self.position = 0
    }

    /// How many bytes have been read: the offset of the next byte from the start of the buffer.
    @inlinable
    public var offset: Int { position }

    /// How many bytes are left to read.
    @inlinable
    public var remainingCount: Int { buffer.count - position }

    /// True once every byte has been read.
    @inlinable
    public var isAtEnd: Bool { position == buffer.count }

    /// Reads one value of type `type`.
    @inlinable
    public mutating func read<T: BinaryDecodable>(_ type: T.Type = T.self) throws(BinaryDecodingError) -> T {
        try T(from: &self)
    }

    /// Reads one raw byte.
    @inlinable
    public mutating func readByte() throws(BinaryDecodingError) -> UInt8 {
        guard position < buffer.count else { throw shortage(1, "a byte") }
        let byte = buffer[position]
        position += 1
        return byte
    }

    /// Reads a little-endian integer of `MemoryLayout<T>.size` bytes.
    @inlinable
    public mutating func readInteger<T: FixedWidthInteger & BitwiseCopyable>(
        _ type: T.Type = T.self
    ) throws(BinaryDecodingError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remainingCount, let base = buffer.baseAddress else { throw shortage(size, "a \(T.self)") }
        let value = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
        return T(littleEndian: value)
    }

    /// Reads an unsigned LEB128 varint in minimal form.
    @inlinable
    public mutating func readVarint() throws(BinaryDecodingError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < buffer.count else {
                throw BinaryDecodingError(.truncated, at: start, "a varint runs past the end of the input")
            }
            let byte = buffer[position]
            position += 1
            if shift == 63, byte > 1 {
                throw BinaryDecodingError(.malformedVarint, at: start, "a varint overflows 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0, shift > 0 {
                    throw BinaryDecodingError(.malformedVarint, at: start, "a varint is not in minimal form")
                }
                return value
            }
            shift += 7
        }
    }

    /// Reads a length or count (a varint) that must not exceed the bytes left.
    ///
    /// Every element PluginKit decodes takes at least one byte, so a count larger than the
    /// bytes left cannot be honest; rejecting it here bounds every allocation by the input size.
    @inlinable
    public mutating func readLength() throws(BinaryDecodingError) -> Int {
        let start = position
        let raw = try readVarint()
        guard raw <= UInt64(remainingCount) else {
            throw BinaryDecodingError(
                .lengthOutOfRange, at: start, "a length of \(raw) exceeds the \(remainingCount) bytes left")
        }
        return Int(raw)
    }

    /// Reads `count` raw bytes.
    @inlinable
    public mutating func readBytes(count: Int) throws(BinaryDecodingError) -> [UInt8] {
        guard count >= 0, count <= remainingCount else { throw shortage(count, "\(count) bytes") }
        let bytes = Array(buffer[position..<(position + count)])
        position += count
        return bytes
    }

    /// Reads `count` bytes that must be valid UTF-8.
    @inlinable
    public mutating func readUTF8(count: Int) throws(BinaryDecodingError) -> String {
        guard count >= 0, count <= remainingCount else { throw shortage(count, "a string of \(count) bytes") }
        let slice = UnsafeBufferPointer(rebasing: buffer[position..<(position + count)])
        let text: UTF8Span
        do {
            text = try UTF8Span(validating: slice.span)
        } catch {
            throw BinaryDecodingError(
                .invalidUTF8, at: position + error.byteOffsets.lowerBound,
                "a string of \(count) bytes is not valid UTF-8 (\(error.kind))")
        }
        position += count
        return String(copying: text)
    }

    /// Throws ``BinaryDecodingError/Reason/trailingBytes`` unless every byte has been read.
    @inlinable
    public func expectEnd() throws(BinaryDecodingError) {
        guard isAtEnd else {
            throw BinaryDecodingError(.trailingBytes, at: position, "\(remainingCount) bytes left after the value")
        }
    }

    /// The error for a read of `count` bytes that do not fit (or a negative count).
    @usableFromInline
    func shortage(_ count: Int, _ what: String) -> BinaryDecodingError {
        guard count >= 0 else {
            return BinaryDecodingError(.lengthOutOfRange, at: position, "a negative length (\(count)) for \(what)")
        }
        return BinaryDecodingError(.truncated, at: position, "\(what) needs \(count) bytes, \(remainingCount) left")
    }
}

extension BinaryDecodable {
    /// Decodes a value that must fill `bytes` exactly.
    ///
    /// - Throws: ``BinaryDecodingError`` if the bytes are truncated or malformed, or if bytes are
    ///   left over after one value (reason ``BinaryDecodingError/Reason/trailingBytes``).
    @inlinable
    public init(binaryEncoded bytes: [UInt8]) throws(BinaryDecodingError) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(BinaryDecodingError) -> Self in try Self(decodingAll: buffer) }
        }
        self = try result.get()
    }

    /// Decodes a value that must fill the borrowed `buffer` exactly.
    @inlinable
    init(decodingAll buffer: UnsafeBufferPointer<UInt8>) throws(BinaryDecodingError) {
        var reader = BinaryReader(borrowing: buffer)
        let value = try Self(from: &reader)
        try reader.expectEnd()
        self = value
    }
}
