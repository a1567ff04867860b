/// How a worker reaches a file the master published (see `PH_EXT_BLOBS`), in the bytes a
/// plugin puts in its requests.
///
/// Wire form: `1` then a UTF-8 path (a worker on the master's machine opens the master's file),
/// or `2` then the 32-byte SHA-256 and the 8-byte little-endian size of the content (a worker
/// elsewhere finds it in its machine's cache, or fetches it from the master).
public enum BlobReference: Sendable, Equatable {
    /// A path on the master's machine.
    case local(path: String)
    /// The content's digest and size.
    case content(digest: [UInt8], size: UInt64)

    /// Size of a SHA-256 digest.
    public static let digestSize = 32

    /// The wire form.
    public var encoded: [UInt8] {
        switch self {
        case .local(let path):
            return [1] + Array(path.utf8)
        case .content(let digest, let size):
            var out: [UInt8] = [2] + digest
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: size >> UInt64(shift))) }
            return out
        }
    }

    /// Decodes the wire form; nil when it is not one.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard let tag = bytes.first else { return nil }
        switch tag {
        case 1:
            guard bytes.count > 1, let path = String(validating: bytes[1...], as: UTF8.self) else { return nil }
            self = .local(path: path)
        case 2:
            guard bytes.count == 1 + BlobReference.digestSize + 8 else { return nil }
            let digest = Array(bytes[1...BlobReference.digestSize])
            var size: UInt64 = 0
            for index in (0..<8).reversed() { size = size << 8 | UInt64(bytes[1 + BlobReference.digestSize + index]) }
            self = .content(digest: digest, size: size)
        default:
            return nil
        }
    }

    /// A digest in lowercase hexadecimal (cache file names, messages).
    public static func hex(_ digest: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var out = ""
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return out
    }
}
