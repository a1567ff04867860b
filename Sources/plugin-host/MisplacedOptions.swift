/// Host options written after the plugin name (`plugin-host run chaos -j 2 echo`): they are the
/// plugin's arguments there, as documented, but a likely mistake, so the host warns.
enum MisplacedOptions {
    /// Warns once for each argument before a `--` that is one of `run`'s own options
    /// (`-j`, `--jobs`, `--jobs=4`...).
    static func warn(_ arguments: [String], plugin: String) {
        for option in misplaced(arguments) {
            printLine("plugin-host: warning: '\(option)' after the plugin name is passed to \(plugin); put host options before it",
                      toStandardError: true)
        }
    }

    /// The arguments that name a host option, in order, each once.
    static func misplaced(_ arguments: [String]) -> [String] {
        var found: [String] = []
        for argument in arguments {
            if argument == "--" { break }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if hostOptions.contains(name) && !found.contains(argument) { found.append(argument) }
        }
        return found
    }

    /// Every option name of `plugin-host run`, read from the name column of its help (so it
    /// cannot drift): `--progress/--no-progress` gives both.
    static let hostOptions: Set<String> = {
        var names: Set<String> = []
        for line in RunCommand.helpMessage(columns: 10_000).split(separator: "\n") {
            // An option's line starts with its names: "  -j, --jobs <jobs>   Worker processes...".
            for word in line.split(whereSeparator: { $0 == " " || $0 == "," }) {
                if word.hasPrefix("<") { continue }
                guard word.hasPrefix("-") else { break }
                for name in word.split(separator: "/") where name.count > 1 && name != "--" {
                    names.insert(String(name.prefix { $0 != "=" }))
                }
            }
        }
        return names
    }()
}
