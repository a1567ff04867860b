import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Finds task-kind plugins on disk.
///
/// The search path is, in order: directories given explicitly (`--plugin-path`), the entries of
/// `PLUGIN_HOST_PATH` (colon-separated), and the directory of the running executable (so a plain
/// `swift build` finds the plugins it built beside `plugin-host`). Every `lib*.so` that exports
/// the entry symbol is a plugin.
///
/// Other libraries on the path are never loaded into this process: ``list()`` probes each one in
/// a short-lived `plugin-worker --probe` process, and ``load(_:)`` loads in this process only the
/// files whose name says they are the plugin asked for (see ``load(_:)``), so one damaged library
/// on the path (truncated, crashing or calling `exit` while it loads) breaks nothing else.
public struct PluginCatalog: Sendable {
    /// The directories searched, in order.
    public let directories: [String]
    /// The `plugin-worker` executable that probes libraries (`--probe`).
    public let probeExecutable: String

    /// Creates a catalog over `extraDirectories`, then `PLUGIN_HOST_PATH`, then the executable's
    /// directory; libraries are probed with `probeExecutable` (default: `plugin-worker` beside
    /// this program).
    public init(extraDirectories: [String] = [],
                probeExecutable: String = PluginCatalog.executableDirectory + "/plugin-worker") {
        var directories = extraDirectories
        if let variable = getenv("PLUGIN_HOST_PATH") {
            directories += String(cString: variable).split(separator: ":").map(String.init)
        }
        directories.append(PluginCatalog.executableDirectory)
        var seen = Set<String>()
        self.directories = directories.filter { seen.insert($0).inserted }
        self.probeExecutable = probeExecutable
    }

    /// The directory holding the running executable.
    public static var executableDirectory: String {
        let path = SystemInfo.executablePath
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// One plugin found on the search path.
    public struct Entry: Sendable {
        /// What the plugin says about itself.
        public let info: PluginInfo
        /// Where it was found.
        public let path: String
    }

    /// Every plugin on the search path (first one wins for a repeated name), and the files that
    /// look like plugins but failed to load, with the reason. Each library is loaded in a probe
    /// process of its own, never in this one.
    public func list() -> (plugins: [Entry], problems: [PluginLoadError]) {
        var plugins: [Entry] = []
        var problems: [PluginLoadError] = []
        var names = Set<String>()
        for directory in directories {
            for file in PluginCatalog.sharedObjects(in: directory) {
                switch PluginProbe.run(path: file, executable: probeExecutable) {
                case .success(let info):
                    if names.insert(info.name).inserted { plugins.append(Entry(info: info, path: file)) }
                case .failure(.missingEntry):
                    continue  // Not a plugin (another shared library).
                case .failure(let error):
                    problems.append(error)
                }
            }
        }
        return (plugins, problems)
    }

    /// Loads the plugin named `nameOrPath`: a path if it contains a slash or ends in `.so`,
    /// otherwise a plugin name looked up on the search path.
    ///
    /// Directories are searched in order, so an earlier one wins. In each, the files named like
    /// the plugin (`libProofCheck.so` or `libProofCheckPlugin.so` for `proofcheck`: case, `-` and
    /// `_` ignored) are loaded into this process to read their names; the other libraries are
    /// probed each in a process of its own (as ``list()`` does), and only the one that says it
    /// is the plugin is loaded here.
    public func load(_ nameOrPath: String) throws(HostError) -> PluginLibrary {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".so") {
            do { return try PluginLibrary(path: absolutePath(nameOrPath)) } catch { throw .plugin(error) }
        }
        // Directory by directory, so the search path's order decides; within a directory, files
        // named like the plugin are loaded first, and the others are only probed in a child
        // process (a damaged library must not take the host down).
        var problem: PluginLoadError?
        for directory in directories {
            let files = PluginCatalog.sharedObjects(in: directory)
            let named = files.filter { PluginCatalog.fileName($0, suggests: nameOrPath) }
            for file in named {
                do {
                    let library = try PluginLibrary(path: file)
                    if library.name == nameOrPath { return library }
                } catch .missingEntry {
                    continue
                } catch {
                    problem = problem ?? error
                }
            }
            for file in files where !named.contains(file) {
                guard case .success(let info) = PluginProbe.run(path: file, executable: probeExecutable),
                      info.name == nameOrPath else { continue }
                do { return try PluginLibrary(path: file) } catch { throw .plugin(error) }
            }
        }
        // A file named like the plugin that failed to load says more than "not found".
        if let problem { throw .plugin(problem) }
        throw .pluginNotFound(name: nameOrPath, searched: directories)
    }

    /// True when a file's name, without `lib`, `.so`, a final `Plugin`, case, `-` and `_`, is
    /// the plugin's name (`libChaosPlugin.so` for `chaos`, `libProofCheck.so` for `proofcheck`).
    static func fileName(_ path: String, suggests name: String) -> Bool {
        func key<S: StringProtocol>(_ text: S) -> String {
            String(text.lowercased().filter { $0 != "-" && $0 != "_" })
        }
        let file = key((path.split(separator: "/").last ?? "").dropFirst(3).dropLast(3))
        let wanted = key(name)
        return file == wanted || file == wanted + "plugin"
    }

    private func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd + "/" + path
    }

    static func sharedObjects(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var files: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("lib") && name.hasSuffix(".so") { files.append(directory + "/" + name) }
        }
        return files.sorted()
    }
}
