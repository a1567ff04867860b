/// What a plugin says about itself: the descriptor's text fields and versions, without the library.
///
/// `plugin-worker --probe PATH` loads a library in a short-lived process and sends this back
/// (see ``PluginProbeAnswer``), so listing plugins never loads a damaged library into the host.
public struct PluginInfo: Sendable, Equatable {
    /// The plugin's name.
    public var name: String
    /// The plugin's version.
    public var version: String
    /// The one-line description.
    public var summary: String
    /// The ABI major version the plugin declared.
    public var abiMajor: UInt32
    /// The ABI minor version the plugin declared.
    public var abiMinor: UInt32
    /// The default worker policy.
    public var defaultPolicy: WorkerPolicy
    /// True for the project's test fixtures (see ``PluginLibrary/isTestFixture``).
    public var isTestFixture: Bool

    /// Creates an info.
    public init(name: String, version: String, summary: String, abiMajor: UInt32, abiMinor: UInt32,
                defaultPolicy: WorkerPolicy, isTestFixture: Bool = false) {
        self.name = name
        self.version = version
        self.summary = summary
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
        self.defaultPolicy = defaultPolicy
        self.isTestFixture = isTestFixture
    }

    /// The ABI version the plugin declared, as `major.minor`.
    public var abiVersion: String { "\(abiMajor).\(abiMinor)" }
}

extension PluginLibrary {
    /// The descriptor's fields as a ``PluginInfo``.
    public var info: PluginInfo {
        PluginInfo(name: name, version: version, summary: summary, abiMajor: descriptor.abi_major,
                   abiMinor: descriptor.abi_minor, defaultPolicy: defaultPolicy, isTestFixture: isTestFixture)
    }
}

/// The answer of `plugin-worker --probe PATH`: the plugin's ``PluginInfo``, or why it did not load.
///
/// Encoded as text fields separated by NUL bytes (no field can hold one: each comes from a C
/// string or a number), so a plugin's own prints cannot be mistaken for an answer that decodes.
public enum PluginProbeAnswer: Sendable, Equatable {
    /// The library is a plugin.
    case plugin(PluginInfo)
    /// The library did not load as a plugin.
    case failure(PluginLoadError)

    private static let magic = "plugin-host-probe-1"

    /// The bytes the probe writes.
    public func encoded() -> [UInt8] {
        let fields: [String]
        switch self {
        case .plugin(let info):
            fields = [Self.magic, "plugin", info.name, info.version, info.summary, String(info.abiMajor),
                      String(info.abiMinor), info.defaultPolicy.rawValue, info.isTestFixture ? "fixture" : ""]
        case .failure(let error):
            fields = [Self.magic, "failure"] + error.fields
        }
        return Array(fields.joined(separator: "\0").utf8) + [0]
    }

    /// Decodes what a probe wrote; nil unless it is exactly one complete answer.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.last == 0 else { return nil }
        let fields = bytes.dropLast().split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard fields.count >= 2, fields[0] == Self.magic else { return nil }
        switch fields[1] {
        case "plugin":
            guard fields.count == 9, let major = UInt32(fields[5]), let minor = UInt32(fields[6]),
                  let policy = WorkerPolicy(rawValue: fields[7]) else { return nil }
            self = .plugin(PluginInfo(name: fields[2], version: fields[3], summary: fields[4], abiMajor: major,
                                      abiMinor: minor, defaultPolicy: policy, isTestFixture: fields[8] == "fixture"))
        case "failure":
            guard let error = PluginLoadError(fields: Array(fields[2...])) else { return nil }
            self = .failure(error)
        default:
            return nil
        }
    }
}
