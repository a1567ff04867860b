/// The parser's view of the labelled statements (`$f`, `$e`, `$a`, `$p`) read so far, by
/// statement index (parallel arrays).
struct StatementTable {
    /// ``ImageLayout/StatementKind`` values.
    var kind = GrowableBuffer<Int32>()
    /// The name id of the label.
    var nameId = GrowableBuffer<Int32>()
    /// The math string: start and length in the expressions section.
    var start = GrowableBuffer<Int32>()
    var count = GrowableBuffer<Int32>()
    /// The frame of an assertion (offset in the frames section), else -1.
    var frame = GrowableBuffer<Int32>()
    /// Where the label is.
    var file = GrowableBuffer<Int32>()
    var line = GrowableBuffer<Int32>()
    /// For a hypothesis: the first statement index after its block ended (`Int32.max` while
    /// it is active); -1 for an assertion (see ``ImageLayout/StatementRecord/scopeEnd``).
    var scopeEnd = GrowableBuffer<Int32>()

    /// The number of statements.
    var total: Int { kind.count }

    init(capacity: Int) {
        kind = GrowableBuffer(capacity: capacity)
        nameId = GrowableBuffer(capacity: capacity)
        start = GrowableBuffer(capacity: capacity)
        count = GrowableBuffer(capacity: capacity)
        frame = GrowableBuffer(capacity: capacity)
        file = GrowableBuffer(capacity: capacity)
        line = GrowableBuffer(capacity: capacity)
        scopeEnd = GrowableBuffer(capacity: capacity)
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
