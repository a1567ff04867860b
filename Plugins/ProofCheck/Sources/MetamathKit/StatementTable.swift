/// The parser's view of the labelled statements (`$f`, `$e`, `$a`, `$p`) read so far, by
/// statement index (parallel arrays).
struct StatementTable {
    /// ``ImageLayout/StatementKind`` values.
    var kind: [Int32] = []
    /// The name id of the label.
    var nameId: [Int32] = []
    /// The math string: start and length in the expressions section.
    var start: [Int32] = []
    var count: [Int32] = []
    /// The frame of an assertion (offset in the frames section), else -1.
    var frame: [Int32] = []
    /// Where the label is.
    var file: [Int32] = []
    var line: [Int32] = []
    /// For a hypothesis: the first statement index after its block ended (`Int32.max` while
    /// it is active); -1 for an assertion (see ``ImageLayout/StatementRecord/scopeEnd``).
    var scopeEnd: [Int32] = []

    /// The number of statements.
    var total: Int { kind.count }

    mutating func reserveCapacity(_ capacity: Int) {
        kind.reserveCapacity(capacity)
        nameId.reserveCapacity(capacity)
        start.reserveCapacity(capacity)
        count.reserveCapacity(capacity)
        frame.reserveCapacity(capacity)
        file.reserveCapacity(capacity)
        line.reserveCapacity(capacity)
        scopeEnd.reserveCapacity(capacity)
    }

    /// Adds a statement labelled at `label` whose math string is `count` symbols from `start`.
    mutating func add(kind: Int32, nameId name: Int32, start first: Int, count length: Int, label: Token) -> Int32 {
        let statement = Int32(self.kind.count)
        self.kind.append(kind)
        nameId.append(name)
        start.append(Int32(first))
        count.append(Int32(length))
        frame.append(-1)
        file.append(label.file)
        line.append(label.line)
        scopeEnd.append(kind <= ImageLayout.StatementKind.essential ? Int32.max : -1)
        return statement
    }
}
