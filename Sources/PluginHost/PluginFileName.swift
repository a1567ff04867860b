/// How plugin files are named: which files of a search directory are libraries, and which plugin
/// name a file's name suggests.
///
/// A library is `STEM.so` or a versioned `STEM.so.N` (`.so.1`, `.so.1.2`). A file suggests the
/// plugin `name` when its stem, without a leading `lib` and a final `Plugin` (case, `-` and `_`
/// ignored), is the name: `wordcount.so`, `libwordcount.so`, `libWordCountPlugin.so` and
/// `libwordcount.so.1` all suggest `wordcount`.
enum PluginFileName {
    /// True for a library's file name (the last path component): `STEM.so` or `STEM.so.N[.N...]`.
    static func isLibrary(_ fileName: String) -> Bool { stem(of: fileName) != nil }

    /// The file name without `.so` and a version after it; nil unless it names a library.
    static func stem(of fileName: String) -> Substring? {
        var rest = Substring(fileName)
        // A versioned name: strip the trailing `.N` groups, then `.so` must remain.
        while let dot = rest.lastIndex(of: "."), !rest[rest.index(after: dot)...].isEmpty,
              rest[rest.index(after: dot)...].allSatisfy({ $0.isASCII && $0.isNumber }) {
            rest = rest[..<dot]
        }
        guard rest.hasSuffix(".so"), rest.count > 3 else { return nil }
        return rest.dropLast(3)
    }

    /// True when the file at `path` is named like the plugin `name`.
    static func suggests(_ path: String, plugin name: String) -> Bool {
        guard let stem = stem(of: String(path.split(separator: "/").last ?? "")) else { return false }
        let wanted = key(name)
        let candidates = stem.hasPrefix("lib") ? [key(stem), key(stem.dropFirst(3))] : [key(stem)]
        return candidates.contains { $0 == wanted || $0 == wanted + "plugin" }
    }

    /// True when `text` names a path rather than a plugin: it holds a slash or a library's suffix.
    static func isPath(_ text: String) -> Bool { text.contains("/") || isLibrary(text) }

    /// The comparison key of a name: lower case, without `-` and `_`.
    static func key<S: StringProtocol>(_ text: S) -> String {
        String(text.lowercased().filter { $0 != "-" && $0 != "_" })
    }
}
