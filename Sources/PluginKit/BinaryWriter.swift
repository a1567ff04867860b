/// Accumulates the bytes of encoded values.
///
/// A writer owns a growable byte array. Conformances of ``BinaryEncodable`` append their fields
/// with the `write` methods, which follow the format described on ``BinaryEncodable``.
///
/// ```swift
/// extension Point: BinaryEncodable {
///     func encode(to writer: inout BinaryWriter) {
///         writer.write(x)
///         writer.write(y)
///     }
/// }
/// ```
public struct BinaryWriter {
    @usableFromInline
    var storage: [UInt8]

    /// Creates an empty writer.
    ///
    /// - Parameter capacity: Bytes to reserve up front, to avoid regrowing for large values.
    @inlinable
    public init(capacity: Int = 0) {
        storage = []
        if capacity > 0 {
            storage.reserveCapacity(capacity)
        }
    }

    /// The bytes written so far.
    @inlinable
    public var bytes: [UInt8] { storage }

    /// The number of bytes written so far.
    @inlinable
    public var count: Int { storage.count }

    /// Reserves room for at least `capacity` bytes in total.
    @inlinable
    public mutating func reserveCapacity(_ capacity: Int) {
        storage.reserveCapacity(capacity)
    }

    /// Appends the encoding of `value`.
    @inlinable
    public mutating func write(_ value: some BinaryEncodable) {
        value.encode(to: &self)
    }

    /// Appends one raw byte.
    @inlinable
    public mutating func writeByte(_ byte: UInt8) {
        storage.append(byte)
    }

    /// Appends `value` little-endian, in `MemoryLayout<T>.size` bytes.
    @inlinable
    public mutating func writeInteger<T: FixedWidthInteger & BitwiseCopyable>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }

    /// Appends `value` as an unsigned LEB128 varint (1 to 10 bytes, minimal form).
    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            storage.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        storage.append(UInt8(truncatingIfNeeded: remaining))
    }

    /// Appends a length or count as a varint.
    ///
    /// - Precondition: `length >= 0`.
    @inlinable
    public mutating func writeLength(_ length: Int) {
        precondition(length >= 0, "a length cannot be negative")
        writeVarint(UInt64(length))
    }

    /// Appends `bytes` as they are, with no length prefix.
    @inlinable
    public mutating func writeRawBytes(_ bytes: some Sequence<UInt8>) {
        storage.append(contentsOf: bytes)
    }

    /// Empties the writer; keeps its storage unless it grew past `maximumRetainedCapacity`.
    ///
    /// PluginKit reuses one writer per session for requests and responses so that the steady
    /// state allocates nothing; the cap keeps one huge message from pinning its buffer forever.
    @inlinable
    mutating func removeAll(maximumRetainedCapacity: Int = 64 * 1024) {
        storage.removeAll(keepingCapacity: storage.capacity <= maximumRetainedCapacity)
    }
}
