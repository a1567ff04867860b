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
public struct WorkerLauncher: Sendable, Equatable {
    /// The template as the user wrote it.
    public let template: String
    /// The template's words, placeholders not yet replaced.
    public let words: [String]
    /// The first word resolved through `PATH` (an absolute or relative path stays as it is).
    public let executable: String

    /// Parses `template`; throws a usage error naming the problem.
    public init(template: String, searchPath: String? = WorkerLauncher.environmentPath) throws(HostError) {
        let words = try WorkerLauncher.split(template)
        guard let first = words.first else { throw .usage("--launcher: the template is empty") }
        guard let executable = WorkerLauncher.resolve(first, searchPath: searchPath ?? "") else {
            throw .usage("--launcher: \(first): not found in PATH")
        }
        self.template = template
        self.words = words
        self.executable = executable
    }

    /// The launcher's whole command line for one worker (argv, program first).
    public func command(host: String, pluginPath: String, workerName: String, workerOptions: [String]) -> [String] {
        let pluginFile = pluginPath.split(separator: "/").last.map(String.init) ?? pluginPath
        var namesPlugin = false
        var argv = words.map { word -> String in
            if word.contains("{plugin}") || word.contains("{plugin-file}") { namesPlugin = true }
            return word.replacingPlaceholders(["{host}": host, "{plugin}": pluginPath, "{plugin-file}": pluginFile,
                                               "{worker}": workerName])
        }
        argv[0] = executable
        if !namesPlugin { argv += ["--plugin", pluginPath] }
        return argv + ["--name", workerName] + workerOptions
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
