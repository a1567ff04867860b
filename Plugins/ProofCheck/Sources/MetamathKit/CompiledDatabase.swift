import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The parsed database, compiled into one flat, position-independent image.
public final class CompiledDatabase: Sendable {
    /// Every `$p` of the database, in database order.
    public let theorems: TheoremList
    /// The image that workers map and verifiers read.
    public let image: DatabaseImage

    /// Whether the image came from an ``ImageCache``.
    public let cameFromCache: Bool
    /// The thread writing the image to the cache, when it was compiled for one (joined once).
    private let cacheWriter: Mutex<HelperThread?>

    private init(theorems: TheoremList, image: DatabaseImage, cameFromCache: Bool = false, cacheWriter: sending HelperThread? = nil) {
        self.theorems = theorems
        self.image = image
        self.cameFromCache = cameFromCache
        self.cacheWriter = Mutex(cacheWriter)
    }

    /// Waits until the image compiled for a cache is written there (at once otherwise).
    public func waitForCache() {
        cacheWriter.withLock { writer in
            writer?.join()
            writer = nil
        }
    }

    /// Compiles `path` as ``compile(path:placement:)`` does, through `cache`: an image cached
    /// from the same database (verified, see ``ImageCache``) is copied instead of compiled; a
    /// compiled one is written there, on a thread of its own (``waitForCache()``). Only a
    /// ``ImagePlacement/sealedMemoryFile(fallback:)`` image is cached (other placements compile
    /// as without a cache). An unusable cache directory throws, naming it.
    public static func compile(path: String, placement: ImagePlacement, cache: ImageCache) throws(DatabaseError) -> CompiledDatabase {
        guard case .sealedMemoryFile = placement else { return try compile(path: path, placement: placement) }
        try cache.prepare()
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        var status = stat()
        guard descriptor >= 0 else { return try compile(path: path, placement: placement) }  // (Which says why.)
        defer { close(descriptor) }
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            return try compile(path: path, placement: placement)
        }
        let entry = cache.entry(path: path, status: status)
        if let storage = entry?.load(source: descriptor, status: status) {
            do {
                return CompiledDatabase(theorems: try TheoremList(storage: storage), image: DatabaseImage(storage: storage), cameFromCache: true)
            } catch {
                throw DatabaseError(file: path, line: 0, message: error.message)
            }
        }
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { return try compile(path: path, placement: placement) }
        let source = try TokenStream.readMainFile(path, descriptor: descriptor)
        var hasInclude = false
        let compiled = try compile(path: path, placement: placement, parser: DatabaseParser(path: path, main: source), hasInclude: &hasInclude)
        guard let entry, !hasInclude else { return compiled }
        let image = compiled.image
        let writer = HelperThread { entry.store(image, source: source, in: cache) }
        return CompiledDatabase(theorems: compiled.theorems, image: image, cacheWriter: writer)
    }

    /// Parses `path` (following `$[ $]` includes) and checks everything that is not a proof.
    ///
    /// Proofs are only delimited; ``Verifier`` tokenizes and checks them. The image is built
    /// in `placement`; a file that cannot be created there is an error naming `path`.
    public static func compile(path: String, placement: ImagePlacement = .memory) throws(DatabaseError) -> CompiledDatabase {
        var hasInclude = false
        return try compile(path: path, placement: placement, parser: DatabaseParser(path: path), hasInclude: &hasInclude)
    }

    /// Compiles the database `parser` has opened; says whether it has includes.
    private static func compile(path: String, placement: ImagePlacement, parser: consuming DatabaseParser,
                                hasInclude: inout Bool) throws(DatabaseError) -> CompiledDatabase {
        var parser = parser
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
        hasInclude = parser.hasInclude
        Disposal.release(consume parser)
        return CompiledDatabase(theorems: theorems, image: DatabaseImage(storage: storage))
    }

    /// The theorem (`$p`) with this label, if any.
    public func theorem(labeled label: String) -> TheoremInfo? {
        theorems.position(labeled: label).map { theorems[$0] }
    }
}

