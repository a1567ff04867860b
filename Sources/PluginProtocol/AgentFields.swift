/// The text payloads of the worker agent's connection (see ``FrameType/agentHello`` and the
/// frame types after it): fields separated by NUL bytes, which no name, path or message holds.
public enum AgentFields {
    /// The payload of `fields`.
    public static func encode(_ fields: [String]) -> [UInt8] {
        Array(fields.joined(separator: "\0").utf8)
    }

    /// The fields of `payload` (one empty field for an empty payload).
    public static func decode<Bytes: Collection>(_ payload: Bytes) -> [String] where Bytes.Element == UInt8 {
        payload.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The version of the agent's connection protocol: an agent of another version is refused.
    public static let agentVersion = 1
}
