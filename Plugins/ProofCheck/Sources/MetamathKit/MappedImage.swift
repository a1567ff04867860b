/// A read-only memory mapping of an image file, validated: magic, format version, length, the
/// digest recomputed over the bytes, and that digest equal to the one expected.
public final class MappedImage {
    private let mapping: FileMapping
    let view: ImageView

    /// Maps and validates the image at `path`; a damaged, truncated or different image throws.
    public init(path: String, expectedDigest: UInt64) throws(DatabaseError) {
        do {
            mapping = try FileMapping(path: path)
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
        let body = UnsafeRawBufferPointer(rebasing: mapping.bytes[ImageLayout.headerSize...])
        guard Digest.of(body) == view.digest else {
            throw DatabaseError(file: path, line: 0, message: "the database image is damaged (its content does not match its digest)")
        }
    }

    /// The image's digest.
    public var digest: UInt64 { view.digest }
}
