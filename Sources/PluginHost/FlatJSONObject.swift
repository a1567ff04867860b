/// One JSON object whose values are strings, numbers, booleans or null (no nested objects or
/// arrays): the shape of an `--events` line. Parsed from UTF-8 bytes without Foundation, so a
/// million lines read in well under a second.
struct FlatJSONObject {
    /// A value of the object.
    enum Value: Equatable {
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }

    /// The fields in the order they appear (later duplicates win in lookups).
    private(set) var fields: [(key: String, value: Value)] = []

    /// The value named `key`, if any.
    subscript(key: String) -> Value? {
        fields.last { $0.key == key }?.value
    }

    /// Parses `bytes`; the error is a short cause (`expected ':' at column 12`).
    init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(FlatJSONError) {
        var reader = Reader(bytes: bytes)
        reader.skipBlanks()
        try reader.expect(UInt8(ascii: "{"))
        reader.skipBlanks()
        if reader.peek == UInt8(ascii: "}") {
            reader.position += 1
        } else {
            while true {
                reader.skipBlanks()
                let key = try reader.string()
                reader.skipBlanks()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipBlanks()
                fields.append((key, try reader.value()))
                reader.skipBlanks()
                guard let next = reader.peek else { throw reader.error("the line ends inside the object") }
                reader.position += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw reader.error("expected ',' or '}'", at: reader.position - 1) }
            }
        }
        reader.skipBlanks()
        if reader.position < bytes.count { throw reader.error("text after the object") }
    }

    /// A cursor over the bytes of one line.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        func error(_ cause: String, at column: Int? = nil) -> FlatJSONError {
            FlatJSONError(cause: cause, column: (column ?? position) + 1)
        }

        mutating func skipBlanks() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { position += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(FlatJSONError) {
            guard let found = peek else { throw error("the line ends where '\(Character(Unicode.Scalar(byte)))' was expected") }
            guard found == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
            position += 1
        }

        mutating func value() throws(FlatJSONError) -> Value {
            guard let byte = peek else { throw error("the line ends where a value was expected") }
            switch byte {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            case UInt8(ascii: "{"), UInt8(ascii: "["): throw error("nested objects and arrays are not event fields")
            default: return .number(try number())
            }
        }

        mutating func word(_ text: StaticString) throws(FlatJSONError) {
            let count = text.utf8CodeUnitCount
            guard position + count <= bytes.count,
                  (0..<count).allSatisfy({ bytes[position + $0] == text.utf8Start[$0] }) else { throw error("unexpected value") }
            position += count
        }

        mutating func number() throws(FlatJSONError) -> Double {
            let start = position
            // The fast path: DIGITS[.DIGITS] (every number the host writes), exact as Double(String) is.
            var mantissa: UInt64 = 0
            var digits = 0
            var fraction = 0
            var seenPoint = false
            while let byte = peek, digits < 16 {
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                    digits += 1
                    if seenPoint { fraction += 1 }
                } else if byte == UInt8(ascii: "."), !seenPoint, digits > 0 {
                    seenPoint = true
                } else {
                    break
                }
                position += 1
            }
            let last = position > start ? bytes[position - 1] : 0
            if digits > 0, last != UInt8(ascii: "."), !isNumberByte(peek) {
                return fraction == 0 ? Double(mantissa) : Double(mantissa) / Self.powersOfTen[fraction]
            }
            position = start
            while isNumberByte(peek) { position += 1 }
            guard position > start, let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)),
                  value.isFinite else {
                throw error("expected a value", at: start)
            }
            return value
        }

        static let powersOfTen: [Double] = (0...16).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }

        func isNumberByte(_ byte: UInt8?) -> Bool {
            guard let byte else { return false }
            return (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }

        mutating func string() throws(FlatJSONError) -> String {
            try expect(UInt8(ascii: "\""))
            let start = position
            // The fast path: no escapes.
            while let byte = peek, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { position += 1 }
            if peek == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position - 1]), as: UTF8.self)
            }
            var utf8 = Array(bytes[start..<position])
            while true {
                guard let byte = peek else { throw error("the line ends inside a string") }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = peek else { throw error("the line ends inside a string") }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar), peek == UInt8(ascii: "\\"), position + 1 < bytes.count,
                           bytes[position + 1] == UInt8(ascii: "u") {
                            position += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
                    default:
                        throw error("bad escape in a string", at: position - 2)
                    }
                case let control where control < 0x20:
                    throw error("control character in a string", at: position - 1)
                default:
                    utf8.append(byte)
                }
            }
        }

        mutating func hex4() throws(FlatJSONError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("the line ends inside a \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("bad \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }
    }
}

/// Why a line is not a flat JSON object, and at which column (from 1).
struct FlatJSONError: Error {
    var cause: String
    var column: Int

    var description: String { "\(cause) (column \(column))" }
}
