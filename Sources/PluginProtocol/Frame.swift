/// One message on the master–worker wire.
///
/// On the wire a frame is a 16-byte header followed by the payload:
/// `u32 payload length | u8 type | u8 magic (0xA7) | u16 reserved (0) | u64 id`, little-endian.
public struct Frame: Sendable, Equatable {
    /// What the frame carries.
    public var type: FrameType
    /// The task id for requests, responses, feedback and errors; 0 otherwise.
    public var id: UInt64
    /// The payload bytes.
    public var payload: [UInt8]

    /// Creates a frame.
    public init(type: FrameType, id: UInt64 = 0, payload: [UInt8] = []) {
        self.type = type
        self.id = id
        self.payload = payload
    }

    /// Size of the fixed header that precedes every payload.
    public static let headerSize = 16
    /// The byte that follows the type in every header: a cheap check against stray bytes.
    public static let magic: UInt8 = 0xA7
    /// The default largest payload accepted (64 MiB).
    public static let defaultMaximumPayload = 64 << 20

    /// Appends this frame's wire form to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        Frame.encodeHeader(type: type, id: id, payloadLength: payload.count, into: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// Appends a frame header to `buffer`.
    public static func encodeHeader(type: FrameType, id: UInt64, payloadLength: Int, into buffer: inout [UInt8]) {
        let length = UInt64(UInt32(truncatingIfNeeded: payloadLength))
        // Both words little-endian: length, type, magic, two reserved zero bytes; then the id.
        let header = ((length | UInt64(type.rawValue) << 32 | UInt64(magic) << 40).littleEndian, id.littleEndian)
        // (Bytes appended as a typed buffer: one copy, not a byte-by-byte loop.)
        withUnsafeBytes(of: header) { raw in raw.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) } }
    }
}
