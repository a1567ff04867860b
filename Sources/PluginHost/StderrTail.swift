/// The last lines a worker wrote to stderr, kept for the report of its death.
struct StderrTail {
    /// The lines kept, oldest first.
    private(set) var lines: [String] = []

    /// Keeps `line` (unless it is blank), dropping the oldest beyond `limit`.
    mutating func append(_ line: String, limit: Int) {
        if line.allSatisfy({ $0 == " " || $0 == "\t" }) { return }
        lines.append(line)
        if lines.count > limit { lines.removeFirst(lines.count - limit) }
    }
}
