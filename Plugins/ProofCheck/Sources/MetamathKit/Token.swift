/// One whitespace-separated token of a source file: a slice of the mapped bytes.
struct Token {
    /// The first byte.
    var start: UnsafePointer<UInt8>
    /// The number of bytes (at least 1).
    var count: Int
    /// Index of the file it was read from (into the token stream's file list).
    var file: Int32
    /// 1-based line of its first byte.
    var line: Int32
    /// The token's bytes as a little-endian word when it is shorter than 8 bytes (zero-padded;
    /// tokens have no zero bytes, so equal keys mean equal tokens), else 0 (also 0 for a token
    /// read within 8 bytes of its file's end).
    var key: UInt64 = 0

    /// The keyword this token is (`$c`, `$.`, ...), or nil for a label or math symbol.
    @inline(__always)
    var keyword: Keyword? {
        guard count == 2, start[0] == UInt8(ascii: "$") else { return nil }
        return Keyword.after(dollar: start[1])
    }

    /// Whether the token starts with `$` (a keyword, or a malformed one).
    @inline(__always)
    var startsWithDollar: Bool { start[0] == UInt8(ascii: "$") }

    /// Whether the token is the single character `c`.
    @inline(__always)
    func isCharacter(_ c: UInt8) -> Bool { count == 1 && start[0] == c }

    /// Whether any byte of the token is `$`.
    var containsDollar: Bool {
        for i in 0 ..< count where start[i] == UInt8(ascii: "$") { return true }
        return false
    }

    /// The token's text.
    var text: String {
        String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    /// The token's text as messages quote it (cut by ``Echo``).
    var shown: String { Echo.text(start, count: count) }
}
