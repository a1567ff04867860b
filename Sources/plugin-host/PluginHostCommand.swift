import ArgumentParser
import PluginHost

/// `plugin-host`: runs task kinds (plugins) over a pool of crash-isolated worker processes.
@main
struct PluginHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-host",
        abstract: "Run task-kind plugins over a pool of crash-isolated worker processes.",
        version: "plugin-host " + HostVersion.description,
        subcommands: [RunCommand.self, ListCommand.self, DescribeCommand.self, CheckCommand.self, JournalCommand.self,
                      TraceCommand.self, ReportCommand.self],
        defaultSubcommand: nil
    )

    /// Parses and runs; usage errors exit with status 2 (ArgumentParser's default is 64) so the
    /// documented contract holds: 0 done, 1 task failures, 2 usage or set-up errors.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                printLine(fullMessage(for: error))
                exitProcess(0)
            }
            printLine("plugin-host: error: " + message(for: error), toStandardError: true)
            exitProcess(code.rawValue == 64 ? 2 : code.rawValue)
        }
    }
}

/// Options shared by the subcommands that look plugins up.
struct SearchOptions: ParsableArguments {
    @Option(name: .customLong("plugin-path"), help: "A directory to search for plugins (repeatable; searched before PLUGIN_HOST_PATH, the executable's directory and ../lib/plugin-host from it).")
    var pluginPaths: [String] = []

    /// The catalog over these directories, after one warning line for each of them that is not a
    /// directory; `probeExecutable` defaults to `plugin-worker` beside this program.
    func catalog(probeExecutable: String? = nil) -> PluginCatalog {
        for missing in PluginCatalog.missingDirectories(among: pluginPaths) { warn(missing) }
        guard let probeExecutable else { return PluginCatalog(extraDirectories: pluginPaths) }
        return PluginCatalog(extraDirectories: pluginPaths, probeExecutable: probeExecutable)
    }
}

/// Prints a search-path warning (a shadowed plugin, a missing directory) as one line.
func warn(_ warning: PluginCatalog.Warning) {
    printLine("plugin-host: warning: \(warning)", toStandardError: true)
}

/// Prints a one-line error and exits with status 2.
func fail(_ message: String) -> Never {
    printLine("plugin-host: error: \(message)", toStandardError: true)
    exitProcess(2)
}
