import PluginProtocol

extension PluginCatalog {
    /// Checks the library at `path` as a plugin: its ``PluginInspection``, or one line per
    /// problem (empty on success, never empty on failure).
    ///
    /// The library is loaded in a probe process first (``PluginProbe``), as ``list(warning:)``
    /// does: one that crashes, exits or hangs while it loads is one problem, and only a library
    /// whose entry function came back is loaded into this process to read its descriptor.
    public func check(path: String) -> (inspection: PluginInspection?, problems: [String]) {
        // Absolute: dlopen looks a bare file name up in the system's library path, not here.
        let path = absolutePath(path)
        switch PluginProbe.run(path: path, executable: probeExecutable) {
        case .success, .failure(.invalidDescriptor), .failure(.abiMismatch):
            break  // It loaded and its entry function returned: the descriptor can be read here.
        case .failure(let error):
            return (nil, [error.description])
        }
        do {
            let inspection = try PluginInspection(path: path)
            return (inspection.problems.isEmpty ? inspection : nil, inspection.problems)
        } catch {
            return (nil, [error.description])
        }
    }
}
