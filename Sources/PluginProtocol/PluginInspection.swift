import PluginABI

/// A plugin's descriptor read field by field, with every problem found rather than the first:
/// what `plugin-host check` prints.
///
/// Loads the library into this process (as ``PluginLibrary`` does, after the same complete-ELF
/// check): call it only once a probe process has loaded the library and called its entry
/// function without harm.
public struct PluginInspection: Sendable {
    /// The callbacks a plugin must provide.
    public static let requiredCallbacks = ["master_open", "request_of_task", "use_response", "perform"]

    /// The library's path.
    public let path: String
    /// The ABI version the plugin declared.
    public let abiMajor: UInt32, abiMinor: UInt32
    /// The descriptor's strings (empty when NULL).
    public let name: String, version: String, summary: String, usage: String
    /// The default policy's name, or the raw value when it is none of the ABI's.
    public let defaultPolicy: String
    /// Every callback of the descriptor, in the header's order, and whether it is set.
    public let callbacks: [(name: String, present: Bool)]
    /// The build's digest (``PluginDigest``), 0 if unreadable.
    public let digest: UInt64
    /// The GNU build id, in hexadecimal, if the library has one.
    public let buildID: String?
    /// Each problem as one line naming the file; empty for a plugin this host accepts.
    public let problems: [String]
    /// The plugin-side extension ids the host knows that the plugin's `get_extension` offers.
    public let pluginExtensions: [String]

    /// The plugin-side extension ids the host asks a plugin for.
    public static let knownPluginExtensions = [PH_EXT_JOURNAL]

    /// Reads the library at `path`; throws only when there is no descriptor to read (damaged
    /// file, `dlopen` failure, no entry symbol).
    public init(path: String) throws(PluginLoadError) {
        let (handle, status, descriptor) = try PluginLibrary.callEntry(path: path)
        self.path = path
        abiMajor = descriptor.abi_major
        abiMinor = descriptor.abi_minor
        digest = PluginDigest.ofLoadedLibrary(handle: handle, path: path) ?? 0
        buildID = PluginDigest.buildID(handle: handle).map(BlobReference.hex)
        func invalid(_ reason: String) -> String { PluginLoadError.invalidDescriptor(path: path, reason: reason).description }
        // Another major version's descriptor may have another layout: nothing past the version is read.
        guard descriptor.abi_major == PluginLibrary.hostABI.major, status == 0 else {
            name = ""; version = ""; summary = ""; usage = ""; defaultPolicy = ""; callbacks = []; pluginExtensions = []
            problems = [descriptor.abi_major != PluginLibrary.hostABI.major
                ? PluginLoadError.abiMismatch(path: path, pluginMajor: abiMajor, pluginMinor: abiMinor,
                                              hostMajor: PluginLibrary.hostABI.major,
                                              hostMinor: PluginLibrary.hostABI.minor).description
                : invalid("entry function returned \(status)")]
            return
        }
        name = descriptor.name.map { String(cString: $0) } ?? ""
        version = descriptor.version.map { String(cString: $0) } ?? ""
        summary = descriptor.description.map { String(cString: $0) } ?? ""
        usage = descriptor.usage.map { String(cString: $0) } ?? ""
        switch descriptor.default_policy {
        case PH_POLICY_ONE_SHOT: defaultPolicy = WorkerPolicy.oneShot.rawValue
        case PH_POLICY_PERSISTENT: defaultPolicy = WorkerPolicy.persistent.rawValue
        default: defaultPolicy = String(descriptor.default_policy.rawValue)
        }
        let d = descriptor
        callbacks = [
            ("master_open", d.master_open != nil), ("pull", d.pull != nil), ("task_match", d.task_match != nil),
            ("request_of_task", d.request_of_task != nil), ("use_response", d.use_response != nil),
            ("on_marshal_error", d.on_marshal_error != nil), ("on_task_lost", d.on_task_lost != nil),
            ("forward_feedback", d.forward_feedback != nil), ("finish", d.finish != nil),
            ("name_of_task", d.name_of_task != nil), ("name_of_request", d.name_of_request != nil),
            ("worker_init", d.worker_init != nil), ("perform", d.perform != nil),
            ("on_broadcast", d.on_broadcast != nil), ("get_extension", d.get_extension != nil),
            ("worker_fini", d.worker_fini != nil),
        ]
        pluginExtensions = PluginInspection.knownPluginExtensions.filter { id in d.get_extension?(id) != nil }
        var problems: [String] = []
        if name.isEmpty {
            problems.append(invalid("no name"))
        } else if !name.utf8.allSatisfy({ PluginInspection.nameBytes.contains($0) }) {
            problems.append(invalid("name '\(name)' is not made of a-z, 0-9, '_' and '-'"))
        }
        if Int(defaultPolicy) != nil { problems.append(invalid("default_policy \(defaultPolicy) is neither one-shot nor persistent")) }
        for (callback, present) in callbacks where !present && PluginInspection.requiredCallbacks.contains(callback) {
            problems.append(invalid("required callback \(callback) is NULL"))
        }
        self.problems = problems
    }

    /// The bytes a plugin name may hold: `[a-z0-9_-]`.
    private static let nameBytes = Set(Array("abcdefghijklmnopqrstuvwxyz0123456789_-".utf8))
}
