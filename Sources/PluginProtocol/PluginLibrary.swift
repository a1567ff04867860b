import PluginABI

#if canImport(Glibc)
import Glibc
#endif

/// A task-kind plugin loaded into this process: the `dlopen`ed library and its descriptor.
///
/// Plugins are opened with `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and never unloaded: unloading
/// a Swift library and then using dynamic casts crashes the Swift runtime. The descriptor is
/// immutable after loading, which makes sharing it between threads safe.
public final class PluginLibrary: @unchecked Sendable {
    /// The exported symbol every plugin defines.
    public static let entrySymbol = PH_ENTRY_SYMBOL
    /// The ABI version this build speaks.
    public static let hostABI = (major: UInt32(PH_ABI_VERSION_MAJOR), minor: UInt32(PH_ABI_VERSION_MINOR))

    /// The path the library was loaded from.
    public let path: String
    /// The descriptor the plugin filled in.
    public let descriptor: ph_plugin_descriptor
    /// The plugin's name (from the descriptor).
    public let name: String
    /// The plugin's version (from the descriptor).
    public let version: String
    /// The one-line description.
    public let summary: String
    /// The usage text for the plugin's own arguments.
    public let usage: String
    /// The default worker policy.
    public let defaultPolicy: WorkerPolicy
    /// True for the project's test fixtures: they export ``testFixtureSymbol``.
    public let isTestFixture: Bool

    /// The symbol a test fixture exports so that `plugin-host list` leaves it out of a build's
    /// own directory (not part of the ABI: plugins never define it).
    public static let testFixtureSymbol = "plugin_host_test_fixture"

    /// Loads the plugin at `path` and checks its ABI version: a plugin of this host's major
    /// version is accepted whatever its minor version (the structs are frozen within a major
    /// version; a minor version adds extensions only), any other major version, ABI 1.x included,
    /// is refused with ``PluginLoadError/abiMismatch(path:pluginMajor:pluginMinor:hostMajor:hostMinor:)``.
    /// The file is first checked to be a complete ELF shared object for this machine
    /// (``SharedObjectFile``).
    public init(path: String) throws(PluginLoadError) {
        self.path = path
        let (handle, status, descriptor) = try PluginLibrary.callEntry(path: path)
        if descriptor.abi_major != PluginLibrary.hostABI.major {
            throw .abiMismatch(path: path, pluginMajor: descriptor.abi_major, pluginMinor: descriptor.abi_minor,
                               hostMajor: PluginLibrary.hostABI.major, hostMinor: PluginLibrary.hostABI.minor)
        }
        guard status == 0 else {
            throw .invalidDescriptor(path: path, reason: "entry function returned \(status)")
        }
        guard let name = descriptor.name.map({ String(cString: $0) }), !name.isEmpty else {
            throw .invalidDescriptor(path: path, reason: "no name")
        }
        guard descriptor.request_of_task != nil, descriptor.use_response != nil, descriptor.perform != nil,
              descriptor.master_open != nil
        else {
            throw .invalidDescriptor(path: path, reason: "master_open, request_of_task, use_response and perform are required")
        }
        self.descriptor = descriptor
        self.digest = PluginDigest.ofLoadedLibrary(handle: handle, path: path) ?? 0
        self.name = name
        self.version = descriptor.version.map { String(cString: $0) } ?? ""
        self.summary = descriptor.description.map { String(cString: $0) } ?? ""
        self.usage = descriptor.usage.map { String(cString: $0) } ?? ""
        self.defaultPolicy = descriptor.default_policy == PH_POLICY_PERSISTENT ? .persistent : .oneShot
        self.isTestFixture = dlsym(handle, PluginLibrary.testFixtureSymbol) != nil
    }

    /// Opens the library at `path` and calls its entry function: the `dlopen` handle, what the
    /// entry function returned and the descriptor it filled, unchecked (only its ABI version may
    /// be read unless that is this host's major version). The file is first checked to be a
    /// complete ELF shared object (``SharedObjectFile``).
    static func callEntry(path: String) throws(PluginLoadError)
        -> (handle: UnsafeMutableRawPointer, status: Int32, descriptor: ph_plugin_descriptor) {
        // A truncated library makes dlopen fault (SIGBUS) instead of failing: check it first.
        if let problem = SharedObjectFile.problem(atPath: path) { throw .damaged(path: path, reason: problem) }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw .cannotOpen(path: path, reason: reason)
        }
        guard let symbol = dlsym(handle, PluginLibrary.entrySymbol) else {
            throw .missingEntry(path: path)
        }
        let entry = unsafeBitCast(symbol, to: ph_entry_fn.self)
        // The plugin fills a struct the host owns. Within a major version the descriptor is
        // frozen, but a plugin of another major version may write a longer one before the host
        // can refuse it, so it gets room: PH_DESCRIPTOR_ROOM zeroed bytes, of which the host reads
        // only the version unless it is this host's major version.
        let room = UnsafeMutableRawPointer.allocate(byteCount: Int(PH_DESCRIPTOR_ROOM),
                                                    alignment: MemoryLayout<ph_plugin_descriptor>.alignment)
        defer { room.deallocate() }
        room.initializeMemory(as: UInt8.self, repeating: 0, count: Int(PH_DESCRIPTOR_ROOM))
        let status = entry(PluginLibrary.hostABI.major, PluginLibrary.hostABI.minor,
                           room.assumingMemoryBound(to: ph_plugin_descriptor.self))
        return (handle, status, room.load(as: ph_plugin_descriptor.self))
    }

    /// Digest of the plugin build that was loaded (see ``PluginDigest``); 0 if unreadable.
    public let digest: UInt64

    /// The ABI version the plugin declared, as `major.minor`.
    public var abiVersion: String { "\(descriptor.abi_major).\(descriptor.abi_minor)" }
}

/// What the host does with a worker after a response, by default.
public enum WorkerPolicy: String, Sendable, CaseIterable {
    /// Reboot after every job.
    case oneShot = "one-shot"
    /// Keep workers between jobs.
    case persistent

    /// The ABI value.
    public var abiValue: ph_policy { self == .persistent ? PH_POLICY_PERSISTENT : PH_POLICY_ONE_SHOT }
}
