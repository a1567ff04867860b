import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Finds task-kind plugins on disk.
///
/// The search path is, in order: directories given explicitly (`--plugin-path`), the entries of
/// `PLUGIN_HOST_PATH` (colon-separated), the directory of the running executable (so a plain
/// `swift build` finds the plugins it built beside `plugin-host`), and `../lib/plugin-host` from
/// there when it exists (where `make install` puts the plugins). Every library (`*.so`,
/// `*.so.N`: see ``PluginFileName``) that exports the entry symbol is a plugin; the same plugin
/// name further down the path is shadowed, which ``list(warning:)`` and ``load(_:warning:)`` report.
/// The project's test fixtures, built beside the executable, are left out of ``list(warning:)``
/// there unless that directory is given explicitly; they still load by name.
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
    /// The executable's directory when it was not given explicitly: ``list()`` leaves the test
    /// fixtures there out (see ``PluginLibrary/isTestFixture``).
    private let fixtureHidingDirectory: String?

    /// Creates a catalog over `extraDirectories`, then `PLUGIN_HOST_PATH`, then the executable's
    /// directory, then the installed plugin directory beside it; libraries are probed with
    /// `probeExecutable` (default: `plugin-worker` beside this program).
    public init(extraDirectories: [String] = [],
                probeExecutable: String = PluginCatalog.executableDirectory + "/plugin-worker") {
        var directories = extraDirectories
        if let variable = getenv("PLUGIN_HOST_PATH") {
            directories += String(cString: variable).split(separator: ":").map(String.init)
        }
        fixtureHidingDirectory = directories.contains(PluginCatalog.executableDirectory) ? nil : PluginCatalog.executableDirectory
        directories.append(PluginCatalog.executableDirectory)
        // An installed host (`make install`): PREFIX/bin/plugin-host, plugins in PREFIX/lib/plugin-host.
        let installed = PluginCatalog.executableDirectory.split(separator: "/").dropLast()
            .reduce("") { $0 + "/" + $1 } + "/lib/plugin-host"
        if access(installed, F_OK) == 0 { directories.append(installed) }
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

    /// Every plugin on the search path (first one wins for a repeated name, and `warning` hears
    /// of each file it shadows), and the files that look like plugins but failed to load, with
    /// the reason. Each library is loaded in a probe process of its own, never in this one; a
    /// file seen before under another name (`libNAME.so` linking to `libNAME.so.1`) is skipped.
    public func list(warning: (Warning) -> Void = { _ in }) -> (plugins: [Entry], problems: [PluginLoadError]) {
        list(includingTestFixtures: false, warning: warning)
    }

    /// ``list(warning:)``, with the test fixtures beside the executable when
    /// `includingTestFixtures` (they load by name, so a "did you mean" may name them).
    private func list(includingTestFixtures: Bool,
                      warning: (Warning) -> Void) -> (plugins: [Entry], problems: [PluginLoadError]) {
        var plugins: [Entry] = []
        var problems: [PluginLoadError] = []
        var first: [String: String] = [:]
        var seen = Set<FileIdentity>()
        for directory in directories {
            for file in PluginCatalog.sharedObjects(in: directory) {
                if let identity = FileIdentity.ofExistingRegularFile(file), !seen.insert(identity).inserted { continue }
                switch PluginProbe.run(path: file, executable: probeExecutable) {
                case .success(let info):
                    if info.isTestFixture && directory == fixtureHidingDirectory && !includingTestFixtures { continue }
                    if let used = first[info.name] {
                        warning(.shadowed(name: info.name, used: used, shadowed: file))
                    } else {
                        first[info.name] = file
                        plugins.append(Entry(info: info, path: file))
                    }
                case .failure(.missingEntry):
                    continue  // Not a plugin (another shared library).
                case .failure(let error):
                    problems.append(error)
                }
            }
        }
        return (plugins, problems)
    }

    /// Loads the plugin named `nameOrPath`: a path if it contains a slash or ends in `.so` or
    /// `.so.N`, otherwise a plugin name looked up on the search path.
    ///
    /// Directories are searched in order, so an earlier one wins. In each, the files named like
    /// the plugin (``PluginFileName``: `proofcheck.so`, `libProofCheck.so`,
    /// `libProofCheckPlugin.so` or `libproofcheck.so.1` for `proofcheck`) are loaded into this
    /// process to read their names; the other libraries are probed each in a process of its own
    /// (as ``list(warning:)`` does), and only the one that says it is the plugin is loaded here.
    /// Files named like the plugin further down the path are probed too, and `warning` hears of
    /// each that is the same plugin (shadowed). A name found nowhere is
    /// ``HostError/pluginNotFound(name:searched:suggestion:)``, with the closest name found.
    public func load(_ nameOrPath: String, warning: (Warning) -> Void = { _ in }) throws(HostError) -> PluginLibrary {
        if PluginFileName.isPath(nameOrPath) {
            do { return try PluginLibrary(path: absolutePath(nameOrPath)) } catch { throw .plugin(error) }
        }
        // Directory by directory, so the search path's order decides; within a directory, files
        // named like the plugin are loaded first, and the others are only probed in a child
        // process (a damaged library must not take the host down).
        var problem: PluginLoadError?
        for (index, directory) in directories.enumerated() {
            let files = PluginCatalog.sharedObjects(in: directory)
            let named = files.filter { PluginFileName.suggests($0, plugin: nameOrPath) }
            for file in named {
                do {
                    let library = try PluginLibrary(path: file)
                    if library.name == nameOrPath { return reportingShadows(of: library, from: index, warning) }
                } catch .missingEntry {
                    continue
                } catch {
                    problem = problem ?? error
                }
            }
            for file in files where !named.contains(file) {
                guard case .success(let info) = PluginProbe.run(path: file, executable: probeExecutable),
                      info.name == nameOrPath else { continue }
                do {
                    return reportingShadows(of: try PluginLibrary(path: file), from: index, warning)
                } catch { throw .plugin(error) }
            }
        }
        // A file named like the plugin that failed to load says more than "not found".
        if let problem { throw .plugin(problem) }
        let names = list(includingTestFixtures: true) { _ in }.plugins.map(\.info.name)
        throw .pluginNotFound(name: nameOrPath, searched: directories,
                              suggestion: PluginNameSuggestion.closest(to: nameOrPath, among: names))
    }

    /// Returns `library`, found in `directories[index]`, after telling `warning` of each other
    /// file named like it from there on that a probe says is the same plugin.
    private func reportingShadows(of library: PluginLibrary, from index: Int,
                                  _ warning: (Warning) -> Void) -> PluginLibrary {
        var seen: Set<FileIdentity> = FileIdentity.ofExistingRegularFile(library.path).map { [$0] } ?? []
        for directory in directories[index...] {
            for file in PluginCatalog.sharedObjects(in: directory)
            where file != library.path && PluginFileName.suggests(file, plugin: library.name) {
                if let identity = FileIdentity.ofExistingRegularFile(file), !seen.insert(identity).inserted { continue }
                if case .success(let info) = PluginProbe.run(path: file, executable: probeExecutable), info.name == library.name {
                    warning(.shadowed(name: library.name, used: library.path, shadowed: file))
                }
            }
        }
        return library
    }

    /// `path`, made absolute against the working directory.
    func absolutePath(_ path: String) -> String {
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
            if PluginFileName.isLibrary(name) { files.append(directory + "/" + name) }
        }
        return files.sorted()
    }
}
