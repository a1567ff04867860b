import ArgumentParser
import PluginHost

/// `plugin-host list`: the plugins found on the search path.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the plugins found.")

    @OptionGroup var search: SearchOptions

    func run() throws {
        let (plugins, problems) = search.catalog().list(warning: warn)
        let rows = plugins.map { [$0.info.name, $0.info.version, $0.info.abiVersion, $0.info.defaultPolicy.rawValue, $0.path] }
        let header = ["NAME", "VERSION", "ABI", "POLICY", "PATH"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            let padded = row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(to: widths[$0]) }
            printLine(padded.joined(separator: "  "))
        }
        for problem in problems { printLine("plugin-host: warning: \(problem)", toStandardError: true) }
    }
}

/// `plugin-host describe NAME`: a plugin's description and usage.
struct DescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show a plugin's usage.")

    @OptionGroup var search: SearchOptions
    @Argument(help: "A plugin name or a path to a .so file.", completion: .pluginNames) var plugin: String

    func run() throws {
        let library: PluginLibrary
        do { library = try search.catalog().load(plugin, warning: warn) } catch { fail(error.description) }
        printLine("\(library.name) \(library.version) (ABI \(library.abiVersion), default policy \(library.defaultPolicy.rawValue))")
        printLine(library.summary)
        printLine("")
        printLine(library.usage)
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
