/// The byte layout of a database image, shared by the builder (master) and the reader (workers).
///
/// An image is position-independent: a 32-byte header, a table of section offsets and lengths,
/// then the sections, each aligned to 8 bytes. All integers are little-endian `Int32` unless
/// noted. Header: magic (8 bytes), format version (`UInt32`), section count (`UInt32`), total
/// byte length (`UInt64`), digest of every byte after the header (`UInt64`, see ``Digest``).
enum ImageLayout {
    /// "MMKIMAGE" read as a little-endian `UInt64`.
    static let magic: UInt64 = 0x4547_414D_494B_4D4D
    /// Bumped whenever the layout changes.
    static let formatVersion: UInt32 = 1
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
        /// Proof steps as ``ProofReference`` values.
        case references
        /// Compressed proof letters (bytes, whitespace removed).
        case codes
        /// The persistent stack of `$d` pairs: (a, b, parent) per node.
        case disjointNodes
        /// ``SymbolRecord`` per math symbol.
        case symbols
        /// ``BadReferenceRecord`` per proof label that cannot be used.
        case badReferences
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
        static let stride = 9
    }

    /// Statement kinds.
    enum StatementKind {
        static let floating: Int32 = 1, essential: Int32 = 2, axiom: Int32 = 3, provable: Int32 = 4
    }

    /// Fields of a theorem record.
    enum TheoremRecord {
        static let statement = 0, format = 1, referenceStart = 2, referenceCount = 3
        static let codeStart = 4, codeCount = 5, disjointTop = 6, cost = 7
        static let stride = 8
    }

    /// Proof formats.
    enum ProofFormat {
        static let normal: Int32 = 0
        static let compressed: Int32 = 1
        /// A compressed proof whose label list has no `)`.
        static let unclosedLabelList: Int32 = 2
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

    /// Proof references: a statement index (>= 0), ``unknownStep`` for `?`, or
    /// `badReferenceBase - k` for bad reference number k.
    enum ProofReference {
        static let unknownStep: Int32 = -1
        static let badReferenceBase: Int32 = -2
    }

    /// Fields of a bad reference record.
    enum BadReferenceRecord {
        static let kind = 0, nameOffset = 1, nameLength = 2, statement = 3
        static let stride = 4
    }

    /// Why a proof label cannot be used.
    enum BadReferenceKind {
        static let undeclared: Int32 = 1
        static let declaredLater: Int32 = 2
        static let theoremItself: Int32 = 3
        static let inactiveHypothesis: Int32 = 4
        static let mandatoryInLabelList: Int32 = 5
        /// Still unresolved while parsing; never in a finished image.
        static let pending: Int32 = 0
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
        /// 1 when a `$a` consists of its typecode alone, which (as in metamath-exe) allows a
        /// variable to be substituted by the empty expression.
        static let allowsEmptySubstitution = 0
        static let count = 1
    }
}
