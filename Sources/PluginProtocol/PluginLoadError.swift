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
    /// The file is not a complete ELF shared object for this machine (checked before `dlopen`,
    /// which would fault on a truncated file).
    case damaged(path: String, reason: String)
    /// Loading the library in a probe process (see `PluginCatalog`) killed or ended that process,
    /// or it gave no answer.
    case probeFailed(path: String, reason: String)

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
        case .damaged(let path, let reason):
            return "\(path): damaged or incomplete shared library: \(reason)"
        case .probeFailed(let path, let reason):
            return "\(path): cannot load plugin: \(reason)"
        }
    }

    /// The file the error is about.
    public var path: String {
        switch self {
        case .cannotOpen(let path, _), .missingEntry(let path), .abiMismatch(let path, _, _, _, _),
             .invalidDescriptor(let path, _), .damaged(let path, _), .probeFailed(let path, _):
            return path
        }
    }

    /// The error as text fields (a tag, then its values), for a probe process to send it back.
    /// None holds a NUL byte: every value comes from a C string or a number.
    public var fields: [String] {
        switch self {
        case .cannotOpen(let path, let reason): return ["cannot-open", path, reason]
        case .missingEntry(let path): return ["missing-entry", path]
        case .abiMismatch(let path, let pMajor, let pMinor, let hMajor, let hMinor):
            return ["abi-mismatch", path, String(pMajor), String(pMinor), String(hMajor), String(hMinor)]
        case .invalidDescriptor(let path, let reason): return ["invalid-descriptor", path, reason]
        case .damaged(let path, let reason): return ["damaged", path, reason]
        case .probeFailed(let path, let reason): return ["probe-failed", path, reason]
        }
    }

    /// The error ``fields`` describe, or nil if they describe none.
    public init?(fields: [String]) {
        guard let tag = fields.first, fields.count >= 2 else { return nil }
        let path = fields[1]
        switch (tag, fields.count) {
        case ("cannot-open", 3): self = .cannotOpen(path: path, reason: fields[2])
        case ("missing-entry", 2): self = .missingEntry(path: path)
        case ("abi-mismatch", 6):
            let numbers = fields[2...].compactMap { UInt32($0) }
            guard numbers.count == 4 else { return nil }
            self = .abiMismatch(path: path, pluginMajor: numbers[0], pluginMinor: numbers[1],
                                hostMajor: numbers[2], hostMinor: numbers[3])
        case ("invalid-descriptor", 3): self = .invalidDescriptor(path: path, reason: fields[2])
        case ("damaged", 3): self = .damaged(path: path, reason: fields[2])
        case ("probe-failed", 3): self = .probeFailed(path: path, reason: fields[2])
        default: return nil
        }
    }
}
