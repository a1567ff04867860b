import ArgumentParser
import PluginHost

extension CompletionKind {
    /// Completes a plugin argument with the names of the plugins on the search path, including
    /// the `--plugin-path` directories already typed on the command line.
    static var pluginNames: CompletionKind {
        .custom { words, _, prefix in
            let catalog = PluginCatalog(extraDirectories: pluginPaths(in: words))
            return catalog.list().plugins.map(\.info.name).filter { $0.hasPrefix(prefix) }
        }
    }

    /// The values of `--plugin-path DIR` and `--plugin-path=DIR` among a command line's words.
    static func pluginPaths(in words: [String]) -> [String] {
        var paths: [String] = []
        for (index, word) in words.enumerated() {
            if word == "--plugin-path", index + 1 < words.count {
                paths.append(words[index + 1])
            } else if word.hasPrefix("--plugin-path=") {
                paths.append(String(word.dropFirst("--plugin-path=".count)))
            }
        }
        return paths
    }
}
