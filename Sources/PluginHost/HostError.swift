import PluginProtocol

/// Errors that stop a run before or while it starts. Each prints as one line.
public enum HostError: Error, Sendable, CustomStringConvertible {
    /// Bad arguments (the host's or the plugin's own).
    case usage(String)
    /// A plugin could not be found or loaded.
    case plugin(PluginLoadError)
    /// No plugin of that name on the search path; `suggestion` is the closest name found, if any.
    case pluginNotFound(name: String, searched: [String], suggestion: String?)

    public var description: String {
        switch self {
        case .usage(let message): return message
        case .plugin(let error): return error.description
        case .pluginNotFound(let name, _, let suggestion?):
            return "no plugin named '\(name)' (did you mean '\(suggestion)'?)"
        case .pluginNotFound(let name, let searched, nil):
            return "no plugin named '\(name)' in \(searched.isEmpty ? "(no directories)" : searched.joined(separator: ":"))"
        }
    }
}
