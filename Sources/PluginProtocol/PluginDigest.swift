import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// A fast 64-bit digest of a plugin build, so master and worker can check they run the same build.
///
/// Not cryptographic: it guards against stale or mismatched builds, not against an attacker.
/// A loaded plugin is identified by its GNU build-id note (a hash of the linker's inputs that
/// every SwiftPM, clang and Debian gcc link writes), read from the mapped library at no cost; a
/// library without one falls back to a hash of the whole file. (Hashing the file cost a worker
/// 50 µs for the 120 KB chaos plugin and 0.3–0.7 ms for a 1 MB Swift plugin at every start.)
public enum PluginDigest {
    /// The digest of the build loaded as `handle` (from `dlopen`): its build id if it has one,
    /// else the digest of the file at `path`; `nil` if neither can be read.
    public static func ofLoadedLibrary(handle: UnsafeMutableRawPointer, path: String) -> UInt64? {
        if let id = buildID(handle: handle) {
            // Mixed with a constant so a build id never equals some file's digest by construction.
            return id.withUnsafeBytes { of($0) } ^ 0x6275_696C_642D_6964  // "build-id"
        }
        return ofFile(atPath: path)
    }

    /// A digest as 16 hexadecimal digits.
    public static func hex(_ digest: UInt64) -> String {
        let digits = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The GNU build-id note of the library loaded as `handle`, or nil if it has none.
    public static func buildID(handle: UnsafeMutableRawPointer) -> [UInt8]? {
        var id: UnsafePointer<UInt8>?
        let length = csupport_build_id(handle, &id)
        guard length > 0, let id else { return nil }
        return Array(UnsafeBufferPointer(start: id, count: length))
    }

    /// The digest of the file at `path`, or `nil` if it cannot be read.
    ///
    /// The file is read (to its end, whatever its size said), never mapped: a library truncated
    /// while it is hashed would make a mapping fault with SIGBUS.
    public static func ofFile(atPath path: String) -> UInt64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        guard FileChunks.read(fd, { bytes.append(contentsOf: $0); return true }) != nil else { return nil }
        return bytes.withUnsafeBytes { of($0) }
    }

    /// The digest of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let prime: UInt64 = 0x9E37_79B9_7F4A_7C15
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344,
                                                         0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89)
        let count = bytes.count
        var offset = 0
        while offset + 32 <= count {
            lanes.0 = mix(lanes.0, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self), prime)
            lanes.1 = mix(lanes.1, bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self), prime)
            lanes.2 = mix(lanes.2, bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self), prime)
            lanes.3 = mix(lanes.3, bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self), prime)
            offset += 32
        }
        var hash = lanes.0 ^ (lanes.1 &* 3) ^ (lanes.2 &* 5) ^ (lanes.3 &* 7) ^ UInt64(count)
        while offset < count {
            hash = mix(hash, UInt64(bytes[offset]), prime)
            offset += 1
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return hash
    }

    @inline(__always)
    private static func mix(_ lane: UInt64, _ word: UInt64, _ prime: UInt64) -> UInt64 {
        let value = (lane ^ word) &* prime
        return value ^ (value >> 29)
    }
}
