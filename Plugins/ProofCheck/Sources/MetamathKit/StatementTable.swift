/// The labelled statements (`$f`, `$e`, `$a`, `$p`) read so far, by statement index, kept as
/// the image's statement records (``ImageLayout/StatementRecord``) from the start: the parser
/// fills them as it reads and ``finish(names:)`` completes them, so the statements section is
/// never copied.
struct StatementTable {
    typealias Record = ImageLayout.StatementRecord

    /// The records. Until ``finish(names:)``, a record's name fields are unset (see
    /// ``nameId``), and its theorem field is -1.
    private(set) var records: GrowableBuffer<Int32>
    /// The name id of each statement's label.
    private(set) var nameId: GrowableBuffer<Int32>

    /// The number of statements.
    var total: Int { nameId.count }

    init(capacity: Int) {
        records = GrowableBuffer(capacity: capacity * Record.stride)
        nameId = GrowableBuffer(capacity: capacity)
    }

    /// Adds a statement labelled at `label` whose math string is `count` symbols from `start`.
    mutating func add(kind: Int32, nameId name: Int32, start first: Int, count length: Int, label: Token) -> Int32 {
        let statement = Int32(nameId.count)
        nameId.append(name)
        let record = records.appendSpace(minimum: Record.stride).baseAddress!
        record[Record.kind] = kind
        record[Record.nameOffset] = 0
        record[Record.nameLength] = 0
        record[Record.expressionStart] = Int32(first)
        record[Record.expressionCount] = Int32(length)
        record[Record.frame] = -1
        record[Record.file] = label.file
        record[Record.line] = label.line
        record[Record.theorem] = -1
        record[Record.scopeEnd] = kind <= ImageLayout.StatementKind.essential ? Int32.max : -1
        records.commitAppended(Record.stride)
        return statement
    }

    /// Field `field` (a ``ImageLayout/StatementRecord`` index) of statement `statement`.
    @inline(__always)
    subscript(statement: Int, field: Int) -> Int32 {
        get { records[statement * Record.stride + field] }
        set { records[statement * Record.stride + field] = newValue }
    }

    /// Fills in every record's name (offset and length in the strings section).
    mutating func finish(names: NameTable) {
        let entries = names.entries
        for statement in 0 ..< total {
            let entry = entries[Int(nameId[statement])]
            self[statement, Record.nameOffset] = entry.offset
            self[statement, Record.nameLength] = entry.length
        }
    }
}
