import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Names under a `--results` directory: one path component per kind or task name, whatever the
/// name holds.
public enum ResultsPath {
    /// Longest component, in bytes (names are cut and given a hash to stay apart).
    static let maximumLength = 120

    /// `name` as one safe path component: letters, digits and `.`, `_`, `-`, `+`, `,`, `=`, `@`,
    /// `#` kept, every other byte (`/`, blanks, shell metacharacters, non-ASCII) made `_`; a name
    /// that starts with `.` (as `..` does) gets a leading `_`; an empty name is `_`. A long name is
    /// cut and ends with a hash of the whole, so two long names stay apart.
    public static func component(_ name: String) -> String {
        var bytes: [UInt8] = name.utf8.map { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="),
                 UInt8(ascii: "@"), UInt8(ascii: "#"):
                return byte
            default:
                return UInt8(ascii: "_")
            }
        }
        if bytes.isEmpty || bytes[0] == UInt8(ascii: ".") { bytes.insert(UInt8(ascii: "_"), at: 0) }
        if bytes.count > maximumLength {
            // FNV-1a of the original name.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            bytes = Array(bytes.prefix(maximumLength - 17)) + Array("~\(String(hash, radix: 16))".utf8)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Makes `path` and its missing parents (mode 0755). False with `errno` set when one cannot be made.
    static func makeDirectories(_ path: String) -> Bool {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return false }
        }
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        if status.st_mode & S_IFMT != S_IFDIR { errno = ENOTDIR; return false }
        return true
    }
}
