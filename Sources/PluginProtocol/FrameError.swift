/// Why bytes on the wire could not be read as frames.
public enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header names a type this protocol version does not know.
    case unknownType(UInt8)
    /// The header's magic byte or reserved bytes are wrong: the stream is not a frame stream.
    case badHeader
    /// The payload length exceeds the limit.
    case tooLarge(length: Int, limit: Int)
    /// The stream ended in the middle of a frame.
    case truncated
    /// A payload did not decode (e.g. a hello with missing fields).
    case malformedPayload(String)

    public var description: String {
        switch self {
        case .unknownType(let type): return "malformed frame: unknown frame type \(type)"
        case .badHeader: return "malformed frame: bad header (not a PluginHost frame stream)"
        case .tooLarge(let length, let limit): return "malformed frame: payload of \(length) bytes exceeds the limit of \(limit)"
        case .truncated: return "malformed frame: stream ended inside a frame"
        case .malformedPayload(let what): return "malformed frame: \(what)"
        }
    }
}
