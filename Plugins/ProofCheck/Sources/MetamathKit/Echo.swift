/// User input quoted in a message, cut to a readable length: a 100 MB token in a database must
/// not become a 100 MB error line. Every message of MetamathKit and ProofCheck that repeats a
/// token, label, symbol or file name from the input passes it through here.
public enum Echo {
    /// The most bytes of an input quoted as they are.
    public static let limit = 80

    /// `text` itself when it has at most ``limit`` bytes; else its first ``limit`` bytes (cut
    /// at a character boundary), "…" and its length: `aaaa…aaaa… (104857600 bytes)`.
    public static func text(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            bytes.count <= limit ? nil : clipped(UnsafeRawBufferPointer(bytes))
        } ?? text
    }

    /// Like ``text(_:)``, for `count` bytes at `start` (decoded as UTF-8).
    static func text(_ start: UnsafePointer<UInt8>, count: Int) -> String {
        let bytes = UnsafeRawBufferPointer(start: start, count: count)
        return count <= limit ? String(decoding: bytes, as: UTF8.self) : clipped(bytes)
    }

    /// The first ``limit`` bytes of `bytes` (more than that many), "…" and the length.
    private static func clipped(_ bytes: UnsafeRawBufferPointer) -> String {
        var cut = limit
        // Not inside a multi-byte character: back up over continuation bytes (10xxxxxx).
        while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: bytes[..<cut], as: UTF8.self) + "… (\(bytes.count) bytes)"
    }
}
