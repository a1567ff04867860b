/// Why a plugin could not be loaded. Each case prints as one line naming the file.
public enum PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `dlopen` failed (missing file, missing dependency, not a shared object).
    case cannotOpen(path: String, reason: String)
    /// The library does not export the entry symbol.
    case missingEntry(path: String)
    /// The plugin's ABI major version differs from the host's.
    case abiMismatch(path: String, pluginMajor: UInt32, pluginMinor: UInt32, hostMajor: UInt32, hostMinor: UInt32)
    /// The entry function refused (returned non-zero) or left required fields empty.
    case invalidDescriptor(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "\(path): cannot load plugin: \(reason)"
        case .missingEntry(let path):
            return "\(path): not a PluginHost plugin (no \(PluginLibrary.entrySymbol) symbol)"
        case .abiMismatch(let path, let pMajor, let pMinor, let hMajor, let hMinor):
            return "\(path): plugin ABI version \(pMajor).\(pMinor) is not supported by this host (ABI \(hMajor).\(hMinor))"
        case .invalidDescriptor(let path, let reason):
            return "\(path): invalid plugin descriptor: \(reason)"
        }
    }
}
