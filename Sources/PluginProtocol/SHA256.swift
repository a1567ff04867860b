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

    deinit { var scratch = [UInt8](repeating: 0, count: 32); _ = csupport_sha256_end(context, &scratch) }
}
