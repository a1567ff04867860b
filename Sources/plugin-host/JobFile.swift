import PluginHost

/// A job file: several task kinds in one run, one per line:
/// `PLUGIN [--policy one-shot|persistent] [PLUGIN ARGS...]`. Blank lines and `#` comments are
/// skipped; arguments split on spaces, with single or double quotes to keep spaces.
struct JobFile {
    struct Entry {
        var plugin: String
        var policy: WorkerPolicy?
        var arguments: [String]
        var line: Int
    }

    var entries: [Entry]

    /// Parses `text` read from `path`; errors name the file and line.
    static func parse(_ text: String, path: String) throws(HostError) -> JobFile {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var words: [String]
            do { words = try split(String(line)) } catch { throw .usage("\(path):\(lineNumber): \(error.message)") }
            let plugin = words.removeFirst()
            var policy: WorkerPolicy?
            if words.first == "--policy" {
                guard words.count >= 2, let value = WorkerPolicy(rawValue: words[1]) else {
                    throw .usage("\(path):\(lineNumber): --policy takes one-shot or persistent")
                }
                policy = value
                words.removeFirst(2)
            }
            entries.append(Entry(plugin: plugin, policy: policy, arguments: words, line: lineNumber))
        }
        if entries.isEmpty { throw .usage("\(path): no task kinds in the job file") }
        return JobFile(entries: entries)
    }

    struct SplitError: Error { var message: String }

    static func split(_ line: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" || character == "\r" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(character)
                inWord = true
            }
        }
        if quote != nil { throw SplitError(message: "unterminated quote") }
        if inWord { words.append(current) }
        return words
    }
}
