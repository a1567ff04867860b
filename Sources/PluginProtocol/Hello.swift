/// The handshake a worker sends first: who it is and what it loaded.
///
/// The master compares every field with its own view of the plugin and refuses a worker that
/// differs (another protocol, another ABI, another build of the plugin).
public struct Hello: Sendable, Equatable {
    /// Version of this wire protocol. 3 added the ``FrameType/taskFailure`` frame; the master
    /// refuses a worker of any other version at the handshake.
    public static let currentProtocolVersion: UInt32 = 3

    /// The worker's wire protocol version.
    public var protocolVersion: UInt32
    /// The ABI version the plugin declared.
    public var abiMajor: UInt32
    /// The ABI minor version the plugin declared.
    public var abiMinor: UInt32
    /// The worker's process id.
    public var pid: Int32
    /// Digest of the plugin build the worker loaded (see ``PluginDigest``).
    public var pluginDigest: UInt64
    /// The plugin's name.
    public var pluginName: String
    /// The plugin's version string.
    public var pluginVersion: String

    /// Creates a hello.
    public init(protocolVersion: UInt32 = Hello.currentProtocolVersion, abiMajor: UInt32, abiMinor: UInt32,
                pid: Int32, pluginDigest: UInt64, pluginName: String, pluginVersion: String) {
        self.protocolVersion = protocolVersion
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
        self.pid = pid
        self.pluginDigest = pluginDigest
        self.pluginName = pluginName
        self.pluginVersion = pluginVersion
    }

    /// The payload bytes of a hello frame.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        func put32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) } }
        func put64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        func putString(_ value: String) { let bytes = Array(value.utf8); put32(UInt32(bytes.count)); out.append(contentsOf: bytes) }
        put32(protocolVersion)
        put32(abiMajor)
        put32(abiMinor)
        put32(UInt32(bitPattern: pid))
        put64(pluginDigest)
        putString(pluginName)
        putString(pluginVersion)
        return out
    }

    /// Decodes a hello payload.
    public init(decoding payload: [UInt8]) throws(FrameError) {
        var offset = 0
        func take(_ count: Int) throws(FrameError) -> ArraySlice<UInt8> {
            guard count >= 0, payload.count - offset >= count else { throw .malformedPayload("hello is truncated") }
            defer { offset += count }
            return payload[offset..<(offset + count)]
        }
        func get32() throws(FrameError) -> UInt32 {
            try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        func get64() throws(FrameError) -> UInt64 {
            try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        func getString() throws(FrameError) -> String {
            let length = Int(try get32())
            guard let text = String(validating: try take(length), as: UTF8.self) else {
                throw .malformedPayload("hello carries invalid UTF-8")
            }
            return text
        }
        protocolVersion = try get32()
        abiMajor = try get32()
        abiMinor = try get32()
        pid = Int32(bitPattern: try get32())
        pluginDigest = try get64()
        pluginName = try getString()
        pluginVersion = try getString()
    }
}
