/// The byte layout of a database image, shared by the builder (master) and the reader (workers).
///
/// An image is position-independent: a 32-byte header, a table of section offsets and lengths,
/// then the sections, each aligned to 8 bytes. All integers are little-endian `Int32` unless
/// noted. Header: magic (8 bytes), format version (`UInt32`), section count (`UInt32`), total
/// byte length (`UInt64`), digest of every byte after the header (`UInt64`, see ``ImageDigest``).
enum ImageLayout {
    /// "MMKIMAGE" read as a little-endian `UInt64`.
    static let magic: UInt64 = 0x4547_414D_494B_4D4D
    /// Bumped whenever the layout changes.
    static let formatVersion: UInt32 = 3
    static let headerSize = 32
    static let sectionTableOffset = 32
    static let sectionTableEntrySize = 16
    static var dataOffset: Int { sectionTableOffset + Section.allCases.count * sectionTableEntrySize }

    /// The sections, in file order.
    enum Section: Int, CaseIterable {
        /// ``StatementRecord`` per `$f`/`$e`/`$a`/`$p`, in database order.
        case statements
        /// Math strings of statements: symbol ids, typecode first.
        case expressions
        /// ``FrameRecord`` per assertion, with its patterns.
        case frames
        /// ``TheoremRecord`` per `$p`, in database order.
        case theorems
        /// The text of every proof (bytes between `$=` and `$.`, comments removed), back to
        /// back; workers tokenize and resolve it when they verify.
        case proofs
        /// The persistent stack of `$d` pairs: (a, b, parent) per node.
        case disjointNodes
        /// ``SymbolRecord`` per math symbol.
        case symbols
        /// ``NameRecord`` per name (label or math symbol), by name id.
        case names
        /// The name hash table: `UInt64` slots, `hash << 32 | (name id + 1)` (0: empty), a
        /// power-of-two count, probed linearly from `hash & (count - 1)` (see ``NameTable``).
        case nameSlots
        /// ``FileRecord`` per source file.
        case files
        /// Names of labels, symbols and files (bytes).
        case strings
        /// ``InfoField`` values.
        case info
    }

    /// Fields of a statement record.
    enum StatementRecord {
        static let kind = 0, nameOffset = 1, nameLength = 2, expressionStart = 3, expressionCount = 4
        static let frame = 5, file = 6, line = 7
        /// The theorem record of a `$p`, else -1.
        static let theorem = 8
        /// For a `$f`/`$e`: the first statement index after its block ended (`Int32.max` if it
        /// never ends); the hypothesis is active for statement t iff `h < t < scopeEnd`. Else -1.
        static let scopeEnd = 9
        static let stride = 10
    }

    /// Statement kinds.
    enum StatementKind {
        static let floating: Int32 = 1, essential: Int32 = 2, axiom: Int32 = 3, provable: Int32 = 4
    }

    /// Fields of a theorem record.
    enum TheoremRecord {
        /// The proof text: start and byte count in the proofs section.
        static let statement = 0, proofStart = 1, proofLength = 2, disjointTop = 3, cost = 4
        static let stride = 5
    }

    /// A frame: header, then `hypothesisCount` hypothesis entries, then `disjointCount` pairs of
    /// local variable indices, then the patterns. A pattern is a math string where a mandatory
    /// variable is written `-1 - localIndex` (constants keep their symbol id).
    enum FrameRecord {
        static let hypothesisCount = 0, variableCount = 1, disjointCount = 2
        static let conclusionStart = 3, conclusionCount = 4
        static let headerSize = 5
        /// Per hypothesis: statement, typecode (`$f`) or -1 (`$e`), then for `$f` the local
        /// variable index and 0, for `$e` the pattern start and length (in the frames section).
        static let hypothesisStride = 4
    }

    /// Fields of a name record: where its bytes are in the strings section, and the statement
    /// it labels (-1 for a math symbol or a name no statement has).
    enum NameRecord {
        static let nameOffset = 0, nameLength = 1, statement = 2
        static let stride = 3
    }

    /// Fields of a symbol record.
    enum SymbolRecord {
        static let nameOffset = 0, nameLength = 1, isVariable = 2
        static let stride = 3
    }

    /// Fields of a file record.
    enum FileRecord {
        static let nameOffset = 0, nameLength = 1
        static let stride = 2
    }

    /// Fields of the info section.
    enum InfoField {
        /// Written as 0, read by nothing. It held "some `$a` is its typecode alone", which
        /// gated empty substitutions until the verifier allowed them in every database (as the
        /// Metamath book and metamath-exe's verifier do); the slot stays so that the layout,
        /// and images already written, are unchanged.
        static let reserved = 0
        static let count = 1
    }
}
