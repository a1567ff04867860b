/// Splits one mapped source file into tokens, skipping comments and checking every byte.
///
/// Whitespace is space, tab, CR, LF and FF; every other byte must be printable ASCII
/// (0x21...0x7E). A comment runs from a `$(` token to the next `$)` token; inside it `$(` is an
/// error and `$)` must stand alone between whitespace.
struct Lexer {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var position = 0
    private var line: Int32 = 1
    /// The file's index in the token stream's list.
    let file: Int32
    /// The file's name, for messages.
    let fileName: String

    /// A lexer over `bytes`, which must outlive it and have a base address (even when empty,
    /// as ``FileContents`` guarantees).
    init(bytes: UnsafeRawBufferPointer, file: Int32, fileName: String) {
        base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        end = bytes.count
        self.file = file
        self.fileName = fileName
    }

    /// The next token that is not part of a comment, or nil at the end of the file.
    @inline(__always)
    mutating func next() throws(DatabaseError) -> Token? {
        while true {
            guard let token = try nextRaw() else { return nil }
            if token.count == 2 && token.start[0] == UInt8(ascii: "$") && token.start[1] == UInt8(ascii: "(") {
                try skipComment(openedAt: token.line)
                continue
            }
            return token
        }
    }

    /// The next token, comments included.
    @inline(__always)
    private mutating func nextRaw() throws(DatabaseError) -> Token? {
        var p = position
        // Skip whitespace, counting lines and rejecting other control or non-ASCII bytes.
        while p < end {
            let byte = base[p]
            if byte > 0x20 {
                if byte < 0x7F { break }
                throw badByte(byte)
            }
            if byte == 0x0A {
                line += 1
            } else if byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0C {
                throw badByte(byte)
            }
            p += 1
        }
        guard p < end else {
            position = p
            return nil
        }
        let start = p
        var key: UInt64 = 0
        if p &+ 8 <= end {
            // The token's length from one 8-byte load: the first byte that is not printable
            // ASCII ends it (the first byte is printable, so the length is at least 1).
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let x = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: p, as: UInt64.self))
            let stop = ((x &- ones &* 0x21) & ~x | (x &+ ones) | x) & highs
            if stop != 0 {
                let length = stop.trailingZeroBitCount >> 3
                key = x & ((1 &<< UInt64(length &<< 3)) &- 1)
                p &+= length
            } else {
                p &+= 8
                while p < end && base[p] &- 0x21 < 0x5E { p += 1 }
            }
        } else {
            p += 1
            while p < end && base[p] &- 0x21 < 0x5E { p += 1 }
        }
        position = p
        return Token(start: base + start, count: p - start, file: file, line: line, key: key)
    }

    /// What ``readSymbols(into:symbols:flags:allowingProof:)`` read.
    struct SymbolRun {
        /// The ``SymbolTable/Flag`` bits of the symbols read, or-ed together.
        var flags: UInt8
        /// The keyword that ended the math string (`$.`, or `$=` when allowed), which has been
        /// read; nil when the caller must read the next token the ordinary way.
        var terminator: Keyword?
    }

    /// Reads the math symbols that come next, up to the first token it cannot take alone: one
    /// that starts with `$` (a keyword, a comment, an include), one of 8 bytes or more, one
    /// that `symbols` does not know, or an inactive variable; and stops before it (also at a
    /// byte that is not printable ASCII or whitespace, and near the end of the file). The
    /// caller reads that token the ordinary way. A `$.` (or, when `allowingProof`, a `$=`)
    /// followed by whitespace ends the math string: it is read here.
    @inline(__always)
    mutating func readSymbols(into expressions: inout GrowableBuffer<Int32>, symbols: SymbolKeyTable.Lookup,
                              flags: UnsafePointer<UInt8>, allowingProof: Bool) -> SymbolRun {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        // Everything the loop touches is in locals: stores to the output cannot alias them.
        let base = self.base, end = self.end
        let raw = UnsafeRawPointer(base)
        let space = expressions.appendSpace(minimum: 256)
        let out = space.baseAddress!, room = space.count
        var written = 0
        var p = position
        var line = self.line
        var seen: UInt8 = 0
        var terminator: Keyword?
        var start = p
        while written < room {
            // Whitespace: usually one space.
            while p < end {
                let byte = base[p]
                if byte > 0x20 { break }
                if byte == 0x0A {
                    line &+= 1
                } else if byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0C {
                    break
                }
                p &+= 1
            }
            start = p
            guard p &+ 8 <= end else { break }
            let x = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt64.self))
            let stop = ((x &- ones &* 0x21) & ~x | (x &+ ones) | x) & highs
            // A `$`, a byte that is not printable ASCII, or a token of 8 bytes or more.
            if x & 0xFF == 0x24 || stop & 0x80 != 0 || stop == 0 {
                // `$.` or `$=` then whitespace (0x20, or a line end, tab, CR, FF below it).
                let third = (x &>> 16) & 0xFF
                if x & 0xFF == 0x24 && third <= 0x20 && (third == 0x20 || third == 0x0A || third == 0x09 || third == 0x0D || third == 0x0C) {
                    let second = (x &>> 8) & 0xFF
                    if second == 0x2E || (second == 0x3D && allowingProof) {
                        terminator = second == 0x2E ? .end : .proof
                        p &+= 2
                        start = p
                    }
                }
                break
            }
            let length = stop.trailingZeroBitCount &>> 3
            let symbol = symbols.find(x & ((1 &<< UInt64(length &<< 3)) &- 1))
            if symbol < 0 { break }
            let symbolFlags = flags[Int(symbol)]
            if symbolFlags & SymbolTable.Flag.inactive != 0 { break }
            seen |= symbolFlags
            out[written] = symbol
            written &+= 1
            p &+= length
            // Usually one space comes next (`p` is below `end`: the symbol ended before it).
            if base[p] == 0x20 { p &+= 1 }
            start = p
        }
        expressions.commitAppended(written)
        position = start
        self.line = line
        return SymbolRun(flags: seen, terminator: terminator)
    }

    /// Skips a comment whose `$(` was just read.
    private mutating func skipComment(openedAt openLine: Int32) throws(DatabaseError) {
        var p = position
        while true {
            p = Lexer.skipOrdinary(base, p, end)
            guard p < end else {
                position = p
                throw DatabaseError(file: fileName, line: Int(openLine), message: "comment is never closed by \"$)\"")
            }
            let byte = base[p]
            if byte == UInt8(ascii: "$") {
                if p + 1 < end {
                    let next = base[p + 1]
                    if next == UInt8(ascii: ")") {
                        let before = base[p - 1]
                        let afterIsSpace = p + 2 >= end || Lexer.isWhitespace(base[p + 2])
                        guard Lexer.isWhitespace(before) && afterIsSpace else {
                            throw DatabaseError(file: fileName, line: Int(line),
                                                message: "\"$)\" inside a comment must be separated by whitespace")
                        }
                        position = p + 2
                        return
                    }
                    if next == UInt8(ascii: "(") {
                        throw DatabaseError(file: fileName, line: Int(line),
                                            message: "\"$(\" inside a comment (comments do not nest; the comment opened on line \(openLine))")
                    }
                }
            } else if byte == 0x0A {
                line += 1
            } else if byte != 0x09 && byte != 0x0D && byte != 0x0C {
                position = p
                throw badByte(byte)
            }
            p += 1
        }
    }

    /// What ``scanProof()`` found after a `$=`.
    enum ProofScan {
        /// The proof's text up to its `$.` (which has been read).
        case text(UnsafePointer<UInt8>, count: Int)
        /// A token starting with `$` that cannot be in a proof (it has been read).
        case keyword(Token)
        /// A comment, an include or the end of the file comes first: nothing was read; read
        /// the proof token by token.
        case needsTokens
    }

    /// Finds the end of a proof whose `$=` was just read, without tokenizing it: looks only
    /// at `$`, line ends and bytes that are not printable ASCII (8 bytes at a time).
    mutating func scanProof() throws(DatabaseError) -> ProofScan {
        let start = position
        var p = start
        var line = self.line
        while true {
            p = Lexer.skipOrdinary(base, p, end)
            guard p < end else { return .needsTokens }
            let byte = base[p]
            if byte == UInt8(ascii: "$") {
                // A `$` inside a token (not after whitespace) is part of a label: the worker
                // reports it. `p > start`: the byte after `$=` is not `$`.
                if p > start && Lexer.isWhitespace(base[p - 1]) {
                    var q = p + 1
                    while q < end && base[q] &- 0x21 < 0x5E { q += 1 }
                    if q - p == 2 {
                        let next = base[p + 1]
                        if next == UInt8(ascii: ".") {
                            self.line = line
                            position = q
                            return .text(base + start, count: p - start)
                        }
                        if next == UInt8(ascii: "(") || next == UInt8(ascii: "[") { return .needsTokens }
                    }
                    self.line = line
                    position = q
                    return .keyword(Token(start: base + p, count: q - p, file: file, line: line, key: 0))
                }
            } else if byte == 0x0A {
                line += 1
            } else if byte != 0x09 && byte != 0x0D && byte != 0x0C {
                self.line = line
                position = p
                throw badByte(byte)
            }
            p += 1
        }
    }

    /// The first position from `from` whose byte is `$`, below 0x20 (a line end, another
    /// whitespace or a control byte) or above 0x7E, or `end`. Reads 16 bytes (two words) at a
    /// time: each test flags the first matching byte of a word exactly (borrows and carries
    /// only disturb the bytes after it).
    @inline(__always)
    static func skipOrdinary(_ base: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
        var p = from
        let raw = UnsafeRawPointer(base)
        while p &+ 16 <= end {
            let x = flagged(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt64.self)))
            let y = flagged(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: p &+ 8, as: UInt64.self)))
            if x | y != 0 {
                return x != 0 ? p &+ x.trailingZeroBitCount >> 3 : p &+ 8 &+ y.trailingZeroBitCount >> 3
            }
            p &+= 16
        }
        if p &+ 8 <= end {
            let x = flagged(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt64.self)))
            if x != 0 { return p &+ x.trailingZeroBitCount >> 3 }
            p &+= 8
        }
        while p < end {
            let byte = base[p]
            if byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "$") { return p }
            p &+= 1
        }
        return p
    }

    /// The high bit of each byte of `x` that ``skipOrdinary(_:_:_:)`` stops at, exact for the
    /// first such byte.
    @inline(__always)
    private static func flagged(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let control = (x &- ones &* 0x20) & ~x
        let high = (x &+ ones) | x
        let d = x ^ (ones &* 0x24)
        let dollar = (d &- ones) & ~d
        return (control | high | dollar) & highs
    }

    @inline(__always)
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C
    }

    private func badByte(_ byte: UInt8) -> DatabaseError {
        DatabaseError(file: fileName, line: Int(line),
                      message: "byte 0x\(String(byte, radix: 16, uppercase: true)) is not printable ASCII or whitespace")
    }
}
