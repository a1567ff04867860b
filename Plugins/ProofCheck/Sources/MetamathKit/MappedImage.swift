/// An image file, mapped when it is sealed (the master's memory file) and read into private
/// memory otherwise (see ``ImageFileBytes``: either way nothing done to the file later can
/// make the bytes fault), then validated: magic, format version, length, the section table, the
/// digest in the header equal to the one expected, and (unless the caller trusts where the file
/// comes from) the digest recomputed over the bytes.
public final class MappedImage {
    private let mapping: ImageFileBytes
    let view: ImageView

    /// Maps and validates the image at `path`; a damaged, truncated or different image throws.
    ///
    /// - Parameters:
    ///   - path: The image file.
    ///   - expectedDigest: The digest the image must have.
    ///   - verifyingContent: Whether to recompute the digest over every byte (about 12 ms for a
    ///     66 MB image). Pass `false` only for a file whose origin vouches for it, such as the
    ///     master's own unlinked image opened through `/proc/PID/fd/N` on the same machine; the
    ///     header, section table and digest field are checked either way.
    public init(path: String, expectedDigest: UInt64, verifyingContent: Bool = true) throws(DatabaseError) {
        do {
            mapping = try ImageFileBytes(path: path)
        } catch {
            throw DatabaseError(file: path, line: 0, message: "cannot read the database image: \(error.message)")
        }
        do {
            view = try ImageView(bytes: mapping.bytes)
        } catch {
            throw DatabaseError(file: path, line: 0, message: "invalid database image: \(error.message)")
        }
        guard view.digest == expectedDigest else {
            throw DatabaseError(file: path, line: 0, message: "the database image has digest \(view.digest), expected \(expectedDigest)")
        }
        guard !verifyingContent || ImageDigest.of(image: mapping.bytes) == view.digest else {
            throw DatabaseError(file: path, line: 0, message: "the database image is damaged (its content does not match its digest)")
        }
    }

    /// The image's digest.
    public var digest: UInt64 { view.digest }

    /// Whether the image is mapped from a sealed file (else it was read into memory).
    public var isMapped: Bool { mapping.isMapped }
}
