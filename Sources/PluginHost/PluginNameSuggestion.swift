/// "Did you mean": the plugin name closest to one that was not found.
enum PluginNameSuggestion {
    /// The name among `names` closest to `unknown` (case, `-` and `_` ignored), if it is close
    /// enough to be a slip: at most one edit for names of up to four letters, else at most a
    /// third of the name's length. Ties go to the first name in sorted order.
    static func closest(to unknown: String, among names: [String]) -> String? {
        let wanted = Array(PluginFileName.key(unknown))
        let limit = max(1, wanted.count / 3)
        var best: (name: String, distance: Int)?
        for name in Set(names).sorted() {
            let distance = editDistance(wanted, Array(PluginFileName.key(name)))
            if distance <= limit, distance < (best?.distance ?? .max) { best = (name, distance) }
        }
        return best?.name
    }

    /// The Levenshtein distance (insertions, deletions, substitutions) between `a` and `b`.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
