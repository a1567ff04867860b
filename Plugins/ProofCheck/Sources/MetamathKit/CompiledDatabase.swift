/// The parsed database, compiled into one flat, position-independent image.
public final class CompiledDatabase: Sendable {
    /// Every `$p` of the database, in database order.
    public let theorems: [TheoremInfo]
    /// The image that workers map and verifiers read.
    public let image: DatabaseImage

    private init(theorems: [TheoremInfo], image: DatabaseImage) {
        self.theorems = theorems
        self.image = image
    }

    /// Parses `path` (following `$[ $]` includes) and checks everything that is not a proof.
    ///
    /// Proofs are only delimited; ``Verifier`` tokenizes and checks them. The image is built
    /// in `placement`; a file that cannot be created there is an error naming `path`.
    public static func compile(path: String, placement: ImagePlacement = .memory) throws(DatabaseError) -> CompiledDatabase {
        var parser = try DatabaseParser(path: path)
        // The image file's space is allocated meanwhile, on a helper thread.
        var reservation: ImageFileReservation?
        if case .unlinkedFile(let directories) = placement {
            reservation = ImageFileReservation(size: parser.imageSizeEstimate, directories: directories)
        }
        try parser.parse()
        // The theorem list (a label string each) is made on a helper thread while the image
        // is laid out: both only read the parser's results.
        let theorems = HandOver<[TheoremInfo]>()
        let reader = parser
        let helper = HelperThread { theorems.value = CompiledDatabase.theoremList(of: reader) }
        let storage: ImageStorage
        do {
            storage = try parser.buildImage(placement: placement, reserved: reservation?.take())
        } catch {
            helper.join()
            throw DatabaseError(file: path, line: 0, message: error.message)
        }
        helper.join()
        return CompiledDatabase(theorems: theorems.value!, image: DatabaseImage(storage: storage))
    }

    /// Every `$p` of a parsed database, in order.
    private static func theoremList(of parser: DatabaseParser) -> [TheoremInfo] {
        let sections = parser.sections
        let fileNames = parser.fileNames
        typealias Field = ImageLayout.TheoremRecord
        typealias Statement = ImageLayout.StatementRecord
        let count = sections.theorems.count / Field.stride
        var theorems: [TheoremInfo] = []
        theorems.reserveCapacity(count)
        for i in 0 ..< count {
            let record = i * Field.stride
            let statement = sections.theorems[record + Field.statement]
            let base = Int(statement) * Statement.stride
            theorems.append(TheoremInfo(
                index: statement,
                label: parser.label(ofStatement: statement),
                file: fileNames[Int(sections.statements[base + Statement.file])],
                line: Int(sections.statements[base + Statement.line]),
                proofCost: Int(sections.theorems[record + Field.cost])))
        }
        return theorems
    }

    /// The theorem (`$p`) with this label, if any.
    public func theorem(labeled label: String) -> TheoremInfo? {
        theorems.first { $0.label == label }
    }
}
