#if canImport(Glibc)
import Glibc
#endif

/// A command template that starts a worker somewhere else: `ssh -o BatchMode=yes {host} plugin-worker`,
/// `srun --ntasks=1 plugin-worker`, and so on.
///
/// The worker protocol runs over the launched command's standard input and output, so any
/// launcher that carries them (ssh, srun, a container runtime) works unchanged. The template is
/// split into words like a shell would (single quotes, double quotes and backslashes; no
/// expansions), then each word has its placeholders replaced:
///
/// - `{host}`: the host the worker runs on (from `--hosts`; empty without a hosts file);
/// - `{plugin}`: the plugin's path on the master; `{plugin-file}`: its file name alone, for a
///   template that points at the remote copy (`--plugin /opt/plugins/{plugin-file}`);
/// - `{worker}`: the worker's name (`kind:slot:uid`).
///
/// The host appends the worker's own options: `--plugin PATH` unless the template names the
/// plugin itself, then `--name NAME` and the heartbeat options.
///
/// A launcher like ssh does not execute its arguments: it joins the words after the destination
/// with spaces and hands the line to the remote user's shell, so a value holding a blank, `&`,
/// `;`, `$(…)` or a quote would be split or run there. Such a launcher has ``Shell-swift.enum/remote``
/// (the default for ``remoteShellPrograms``, run directly or through a wrapper such as
/// `timeout 60 ssh`): every value substituted into a word after the first word naming `{host}`
/// (all words after the ssh when none does), and every appended
/// option, is quoted for a POSIX shell (``ShellQuoting/quote(_:)``, only when needed). The
/// `{host}` word and those before it are the launcher's own arguments and stay as they are; the
/// template's own text is the user's, written for the remote shell. A launcher that executes its
/// arguments directly (srun, env, a container runtime) has ``Shell-swift.enum/none``: values go in
/// unchanged, since quotes would become part of a path.
public struct WorkerLauncher: Sendable, Equatable {
    /// Whether the launcher passes its command through a shell on the other side.
    public enum Shell: String, Sendable, Equatable, CaseIterable {
        /// The command goes through the remote user's shell (ssh, rsh): substituted values and
        /// appended options are quoted.
        case remote
        /// The launcher executes its arguments directly (srun, env): nothing is quoted.
        case none
    }

    /// Launchers that pass their command through a remote shell, by program name: the default
    /// ``Shell-swift.enum`` is ``Shell-swift.enum/remote`` when the template runs one of these,
    /// directly or through a wrapper (`timeout 60 ssh {host} …`), ``Shell-swift.enum/none`` otherwise.
    public static let remoteShellPrograms: Set<String> = ["ssh", "autossh", "rsh", "dbclient"]

    /// The template as the user wrote it.
    public let template: String
    /// The template's words, placeholders not yet replaced.
    public let words: [String]
    /// The first word resolved through `PATH` (an absolute or relative path stays as it is).
    public let executable: String
    /// Whether the command goes through a remote shell (and values are quoted for it).
    public let shell: Shell

    /// Parses `template`; throws a usage error naming the problem. `shell` nil: ``Shell-swift.enum/remote``
    /// when the program, or a word before the one naming `{host}`, has a file name in
    /// ``remoteShellPrograms``, else ``Shell-swift.enum/none``.
    public init(template: String, shell: Shell? = nil,
                searchPath: String? = WorkerLauncher.environmentPath) throws(HostError) {
        let words = try WorkerLauncher.split(template)
        guard let first = words.first else { throw .usage("--launcher: the template is empty") }
        guard let executable = WorkerLauncher.resolve(first, searchPath: searchPath ?? "") else {
            throw .usage("--launcher: \(first): not found in PATH")
        }
        self.template = template
        self.words = words
        self.executable = executable
        self.shell = shell ?? (WorkerLauncher.remoteShellWord(in: words) != nil ? .remote : .none)
    }

    /// The index of the first word, up to the one naming `{host}`, whose file name is one of
    /// ``remoteShellPrograms``: the program itself, or the ssh a wrapper runs (`timeout 60 ssh`,
    /// `env ssh`, `sshpass -e ssh`), whose remote command is a shell line all the same.
    static func remoteShellWord(in words: [String]) -> Int? {
        let end = words.firstIndex { $0.contains("{host}") } ?? words.count - 1
        return words[...end].firstIndex { word in
            remoteShellPrograms.contains(word.split(separator: "/").last.map(String.init) ?? word)
        }
    }

    /// The launcher's whole command line for one worker (argv, program first), values quoted
    /// for the remote shell where ``shell`` says they reach one.
    public func command(host: String, pluginPath: String, workerName: String, workerOptions: [String]) -> [String] {
        var namesPlugin = false
        let argv = substituted(host: host, pluginPath: pluginPath, workerName: workerName, namesPlugin: &namesPlugin)
        var appended = namesPlugin ? [] : ["--plugin", pluginPath]
        appended += ["--name", workerName] + workerOptions
        return argv + (shell == .remote ? appended.map(ShellQuoting.quote) : appended)
    }

    /// True when the template can start a host's worker agent: it names no plugin and no worker
    /// (`{plugin}`, `{plugin-file}`, `{worker}`), which an agent serving every plugin and worker
    /// of its host cannot stand for.
    public var startsAgents: Bool {
        !words.contains { $0.contains("{plugin}") || $0.contains("{plugin-file}") || $0.contains("{worker}") }
    }

    /// Launchers whose worker agent connects back to the master over TCP (see
    /// ``AgentConnectBack``), by program name: srun's relay of standard input and output holds
    /// each small write for a delayed acknowledgement.
    public static let connectBackPrograms: Set<String> = ["srun"]

    /// True when the template runs one of ``connectBackPrograms`` (directly or through a
    /// wrapper): its agent is started with `--connect-back PORT` and reaches the master over a
    /// connection of its own, falling back to the launcher's relay when it cannot.
    public var connectsBack: Bool {
        words.contains { WorkerLauncher.connectBackPrograms.contains($0.split(separator: "/").last.map(String.init) ?? $0) }
    }

    /// The launcher's command line that starts the worker agent of `host`: the template with
    /// `{host}` replaced, then `--agent` and `agentOptions`.
    public func agentCommand(host: String, agentOptions: [String]) -> [String] {
        var namesPlugin = false
        let argv = substituted(host: host, pluginPath: "", workerName: "", namesPlugin: &namesPlugin)
        let appended = ["--agent"] + agentOptions
        return argv + (shell == .remote ? appended.map(ShellQuoting.quote) : appended)
    }

    /// The template's words with their placeholders replaced (quoted where they reach a remote
    /// shell), the program resolved; `namesPlugin` says whether a word named the plugin.
    private func substituted(host: String, pluginPath: String, workerName: String, namesPlugin: inout Bool) -> [String] {
        let pluginFile = pluginPath.split(separator: "/").last.map(String.init) ?? pluginPath
        // With a remote shell, the words after the destination are the remote command.
        let destination = shell == .remote
            ? (words.firstIndex { $0.contains("{host}") } ?? WorkerLauncher.remoteShellWord(in: words) ?? 0) : words.count
        var argv: [String] = []
        for (index, word) in words.enumerated() {
            if word.contains("{plugin}") || word.contains("{plugin-file}") { namesPlugin = true }
            let remote = index > destination
            func value(_ text: String) -> String { remote ? ShellQuoting.quote(text) : text }
            argv.append(word.replacingPlaceholders(["{host}": value(host), "{plugin}": value(pluginPath),
                                                    "{plugin-file}": value(pluginFile), "{worker}": value(workerName)]))
        }
        argv[0] = executable
        return argv
    }

    /// `PATH` of this process.
    public static var environmentPath: String? { getenv("PATH").map { String(cString: $0) } }

    /// Splits a template into words: blanks separate words; single quotes keep everything,
    /// double quotes keep everything but `\"` and `\\`; a backslash outside quotes keeps the next byte.
    static func split(_ text: String) throws(HostError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                if !closed { throw .usage("--launcher: unterminated single quote in '\(text)'") }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if escaped != "\"" && escaped != "\\" { current.append("\\") }
                        current.append(escaped)
                    } else {
                        current.append(next)
                    }
                }
                if !closed { throw .usage("--launcher: unterminated double quote in '\(text)'") }
            case "\\":
                inWord = true
                guard let escaped = iterator.next() else { throw .usage("--launcher: the template ends with a backslash") }
                current.append(escaped)
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// The executable `name` names: itself when it holds a slash, else the first match in `searchPath`.
    static func resolve(_ name: String, searchPath: String) -> String? {
        if name.contains("/") { return name }
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

extension String {
    /// This string with every key of `values` replaced by its value.
    func replacingPlaceholders(_ values: [String: String]) -> String {
        guard contains("{") else { return self }
        var result = ""
        var rest = Substring(self)
        outer: while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            for (key, value) in values where rest[open...].hasPrefix(key) {
                result += value
                rest = rest[rest.index(open, offsetBy: key.count)...]
                continue outer
            }
            result.append("{")
            rest = rest[rest.index(after: open)...]
        }
        return result + rest
    }
}
