import PluginABI

/// The C descriptor a plugin fills in its entry point (`ph_plugin_descriptor`).
public typealias PluginDescriptor = ph_plugin_descriptor

/// Exports a ``TaskKind`` through the plugin ABI.
///
/// A plugin library defines the ABI's one entry point and forwards it here:
///
/// ```swift
/// @_cdecl("plugin_host_entry")
/// public func pluginHostEntry(_ major: UInt32, _ minor: UInt32,
///                             _ out: UnsafeMutablePointer<PluginDescriptor>?) -> Int32 {
///     PluginExport.fill(out, hostMajor: major, hostMinor: minor, kind: EchoKind.self)
/// }
/// ```
public enum PluginExport {
    /// Why ``fill(_:hostMajor:hostMinor:kind:)`` refused; its raw value is the entry point's
    /// non-zero result.
    public enum Refusal: Int32, Error, Hashable, Sendable {
        /// The host speaks another major ABI version. The descriptor's `abi_major` and
        /// `abi_minor` are still filled so that the host can name both versions.
        case abiMajorMismatch = 1
        /// The host passed no descriptor.
        case missingDescriptor = 2
        /// This library already exported a different task kind (one kind per library).
        case anotherKindExported = 3
        /// ``TaskKind/name`` is not one or more of `[a-z0-9_-]`.
        case invalidName = 4
    }

    /// The ABI version this build of PluginKit implements, as `(major, minor)`.
    public static var abiVersion: (major: UInt32, minor: UInt32) {
        (UInt32(PH_ABI_VERSION_MAJOR), UInt32(PH_ABI_VERSION_MINOR))
    }

    /// Fills `out` with the descriptor of `kind`.
    ///
    /// The descriptor's strings are allocated once per library and never freed, and its
    /// callbacks are PluginKit's C thunks, so it stays valid for the life of the process.
    /// Calling this again with the same kind fills the same descriptor.
    ///
    /// Inlinable so that the task kind's whole callback path is compiled, specialised, in the
    /// plugin's module.
    ///
    /// - Parameters:
    ///   - out: The host's descriptor.
    ///   - hostMajor: The host's major ABI version; must equal `PH_ABI_VERSION_MAJOR`.
    ///   - hostMinor: The host's minor ABI version. Not needed: within a major version the ABI's
    ///     structs are frozen and extensions are looked up by id, so any minor version serves.
    ///   - kind: The task kind to export.
    /// - Returns: 0, or the raw value of a ``Refusal``.
    @inlinable
    public static func fill<Kind: TaskKind>(
        _ out: UnsafeMutablePointer<PluginDescriptor>?, hostMajor: UInt32, hostMinor: UInt32, kind: Kind.Type
    ) -> Int32 {
        fill(out, hostMajor: hostMajor, hostMinor: hostMinor, kind: ObjectIdentifier(kind), metadata: KindMetadata(kind)) {
            KindDriver(kind)
        }
    }

    @usableFromInline
    static func fill(
        _ out: UnsafeMutablePointer<PluginDescriptor>?, hostMajor: UInt32, hostMinor: UInt32, kind: ObjectIdentifier,
        metadata: KindMetadata, driver: () -> KindDriver
    ) -> Int32 {
        guard let out else { return Refusal.missingDescriptor.rawValue }
        guard hostMajor == abiVersion.major else {
            DescriptorFiller.fillVersionOnly(out)
            return Refusal.abiMajorMismatch.rawValue
        }
        switch KindRegistry.register(kind: kind, metadata: metadata, driver: driver) {
        case .success(let registration):
            DescriptorFiller.fill(out, with: registration)
            return 0
        case .failure(let refusal):
            return refusal.rawValue
        }
    }
}
