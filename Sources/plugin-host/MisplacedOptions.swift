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

    /// Every option name of `plugin-host run`, read from its help (so it cannot drift):
    /// `--[no-]pin` gives `--pin` and `--no-pin`.
    static let hostOptions: Set<String> = {
        var names: Set<String> = []
        let help = RunCommand.helpMessage(columns: 10_000)
        for word in help.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "(" || $0 == ")" }) {
            guard word.hasPrefix("-"), word.count > 1, word != "--" else { continue }
            let name = String(word.prefix { $0 != "<" && $0 != "=" })
            guard name.dropFirst(name.hasPrefix("--") ? 2 : 1).first?.isLetter == true || name.hasPrefix("--[") else { continue }
            if name.hasPrefix("--[no-]") {
                let base = name.dropFirst("--[no-]".count)
                names.insert("--" + base)
                names.insert("--no-" + base)
            } else {
                names.insert(name)
            }
        }
        return names
    }()
}
