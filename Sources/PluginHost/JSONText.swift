/// JSON written as UTF-8 bytes, for the files a run writes as it goes (`--events`, `--trace`,
/// `--results`): appending to one buffer costs no allocation per value, and a batch of lines
/// goes to its file in one write.
///
/// The text is the one ``JSONValue/encoded`` gives (strings escaped the same way, numbers to the
/// microsecond as Swift prints a `Double`), byte for byte.
struct JSONText {
    /// The text so far.
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Forgets the text, keeping the buffer.
    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// The text as a string.
    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends `raw` as it is (JSON syntax, or a key known to need no escaping).
    mutating func append(raw: StaticString) {
        raw.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte as it is.
    mutating func append(byte: UInt8) { bytes.append(byte) }

    /// Appends `text` unquoted and unescaped (a value known to be plain, such as an outcome).
    mutating func append(unescaped text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends `text` as a JSON string: quoted, with `"`, `\`, and control characters escaped.
    mutating func append(string text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 10: bytes.append(UInt8(ascii: "n"))
                case 13: bytes.append(UInt8(ascii: "r"))
                case 9: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              Self.hexDigit(byte >> 4), Self.hexDigit(byte & 15)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `value` in decimal.
    mutating func append(integer value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // Room for 24 digits, more than UInt64's 20.
        withUnsafeMutableBytes(of: &digits) { buffer in
            var rest = value
            var position = buffer.count
            while rest > 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: buffer[position...])
        }
    }

    /// Appends `value` in decimal, with its sign.
    mutating func append(integer value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        append(integer: value.magnitude)
    }

    /// Appends `seconds` rounded to the microsecond, as Swift prints that `Double`
    /// (`1.5`, `0.000123`, `0.0`; `1e-06` below 0.0001).
    mutating func append(number seconds: Double) {
        let micros = (seconds * 1_000_000).rounded()
        // Plain decimal notation, digits exact: the shortest text that reads back as the same
        // Double (checked against Swift's own for every microsecond count up to 2e8 and 5
        // million random ones up to 1e18). Elsewhere (below 100 µs, huge, negative, not finite):
        // Swift's printing itself.
        guard micros >= 100, micros < 1e15 else {
            append(unescaped: String(micros / 1_000_000))
            return
        }
        let count = UInt64(micros)
        append(integer: count / 1_000_000)
        bytes.append(UInt8(ascii: "."))
        var fraction = count % 1_000_000
        guard fraction != 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var width = 6
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends `value` as ``JSONValue/encoded`` does.
    mutating func append(_ value: JSONValue) {
        switch value {
        case .string(let text): append(string: text)
        case .integer(let number): append(integer: number)
        case .number(let number): append(number: number)
        }
    }

    /// Appends `"KEY":` (`key` needs no escaping), after a comma unless it opens an object (the
    /// text so far ends with `{`: a value never does).
    mutating func append(key: StaticString) {
        if let last = bytes.last, last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        append(raw: key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
