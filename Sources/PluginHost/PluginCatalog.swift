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
public struct PluginCatalog: Sendable {
    /// The directories searched, in order.
    public let directories: [String]

    /// Creates a catalog over `extraDirectories`, then `PLUGIN_HOST_PATH`, then the executable's directory.
    public init(extraDirectories: [String] = []) {
        var directories = extraDirectories
        if let variable = getenv("PLUGIN_HOST_PATH") {
            directories += String(cString: variable).split(separator: ":").map(String.init)
        }
        directories.append(PluginCatalog.executableDirectory)
        var seen = Set<String>()
        self.directories = directories.filter { seen.insert($0).inserted }
    }

    /// The directory holding the running executable.
    public static var executableDirectory: String {
        let path = SystemInfo.executablePath
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// One plugin found on the search path.
    public struct Entry: Sendable {
        /// The loaded plugin.
        public let library: PluginLibrary
        /// Where it was found.
        public var path: String { library.path }
    }

    /// Every plugin on the search path (first one wins for a repeated name), and the files that
    /// look like plugins but failed to load, with the reason.
    public func list() -> (plugins: [Entry], problems: [PluginLoadError]) {
        var plugins: [Entry] = []
        var problems: [PluginLoadError] = []
        var names = Set<String>()
        for directory in directories {
            for file in PluginCatalog.sharedObjects(in: directory) {
                do {
                    let library = try PluginLibrary(path: file)
                    if names.insert(library.name).inserted { plugins.append(Entry(library: library)) }
                } catch .missingEntry {
                    continue  // Not a plugin (another shared library).
                } catch {
                    problems.append(error)
                }
            }
        }
        return (plugins, problems)
    }

    /// Loads the plugin named `nameOrPath`: a path if it contains a slash or ends in `.so`,
    /// otherwise a plugin name looked up on the search path.
    public func load(_ nameOrPath: String) throws(HostError) -> PluginLibrary {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".so") {
            do { return try PluginLibrary(path: absolutePath(nameOrPath)) } catch { throw .plugin(error) }
        }
        for directory in directories {
            // Files named like the plugin (libProofCheck.so for proofcheck) first: loading every
            // plugin of a directory to read its name costs milliseconds at each start.
            let files = PluginCatalog.sharedObjects(in: directory)
            let likely = files.filter { PluginCatalog.fileName($0, suggests: nameOrPath) }
            for file in likely + files.filter({ !PluginCatalog.fileName($0, suggests: nameOrPath) }) {
                guard let library = try? PluginLibrary(path: file) else { continue }
                if library.name == nameOrPath { return library }
            }
        }
        throw .pluginNotFound(name: nameOrPath, searched: directories)
    }

    /// True when a file's name, without `lib`, `.so`, case, `-` and `_`, is the plugin's name.
    static func fileName(_ path: String, suggests name: String) -> Bool {
        func key<S: StringProtocol>(_ text: S) -> String {
            String(text.lowercased().filter { $0 != "-" && $0 != "_" })
        }
        let file = path.split(separator: "/").last ?? ""
        return key(file.dropFirst(3).dropLast(3)) == key(name)
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
