import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// An incremental SHA-256 (OpenSSL's libcrypto, loaded on first use).
public struct SHA256Hasher: ~Copyable {
    private let context: UnsafeMutableRawPointer

    /// A new hash; nil when libcrypto cannot be loaded.
    public init?() {
        guard let context = csupport_sha256_begin() else { return nil }
        self.context = context
    }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = csupport_sha256_update(context, base, bytes.count)
    }

    /// The 32-byte digest (ends the hash).
    public consuming func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let status = digest.withUnsafeMutableBufferPointer { csupport_sha256_end(context, $0.baseAddress) }
        discard self
        return status == 0 ? digest : []
    }

    /// The SHA-256 and size of a file's whole content; nil when it cannot be read or libcrypto
    /// is missing.
    public static func digest(ofFile descriptor: Int32) -> (digest: [UInt8], size: UInt64)? {
        guard var hasher = SHA256Hasher() else { return nil }
        guard let size = FileChunks.read(descriptor, { chunk in hasher.update(chunk); return true }) else { return nil }
        return (hasher.finish(), size)
    }

    deinit { var scratch = [UInt8](repeating: 0, count: 32); _ = csupport_sha256_end(context, &scratch) }
}
