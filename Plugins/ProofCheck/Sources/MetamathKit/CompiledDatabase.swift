/// The parsed database, compiled into one flat, position-independent image.
public final class CompiledDatabase: Sendable {
    /// Every `$p` of the database, in database order.
    public let theorems: TheoremList
    /// The image that workers map and verifiers read.
    public let image: DatabaseImage

    private init(theorems: TheoremList, image: DatabaseImage) {
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
        let locations = placement.fileLocations
        if !locations.isEmpty {
            reservation = ImageFileReservation(size: parser.imageSizeEstimate, locations: locations)
        }
        try parser.parse()
        let storage: ImageStorage
        let theorems: TheoremList
        do {
            storage = try parser.buildImage(placement: placement, reserved: reservation?.take())
            theorems = try TheoremList(storage: storage)
        } catch {
            throw DatabaseError(file: path, line: 0, message: error.message)
        }
        // The parser's tables (about 100 MB for the ×10 database) are freed on another
        // thread: unmapping them takes a few milliseconds the caller need not wait for.
        Disposal.release(consume parser)
        return CompiledDatabase(theorems: theorems, image: DatabaseImage(storage: storage))
    }

    /// The theorem (`$p`) with this label, if any.
    public func theorem(labeled label: String) -> TheoremInfo? {
        theorems.position(labeled: label).map { theorems[$0] }
    }
}
