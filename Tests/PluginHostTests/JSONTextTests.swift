// JSONText: the byte-level JSON the run's files are written with (--events, --trace, --results)
// is the text the Swift-String encoding it replaced gave, byte for byte: strings escaped the same
// way, numbers to the microsecond as Swift prints the Double.
@testable import PluginHost
import TestSupport
import Testing

@Suite("JSON text")
struct JSONTextTests {
    /// The encoding JSONText replaced, kept here as the reference.
    private func reference(string value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private func reference(number value: Double) -> String {
        String((value * 1_000_000).rounded() / 1_000_000)
    }

    @Test("strings: quotes, backslashes, every control character, non-ASCII, as before")
    func strings() {
        var samples = ["", "plain", "a \"quoted\"\\ name\n\t\r é 😀 </script>", "\u{7f}\u{80}", "\\\\\"\"", "end\\"]
        samples.append(String(decoding: (0..<0x20).map { UInt8($0) } + Array("x".utf8), as: UTF8.self))
        for sample in samples {
            var text = JSONText()
            text.append(string: sample)
            #expect(text.string == reference(string: sample), "\(sample.debugDescription)")
            #expect(JSONValue.string(sample).encoded == reference(string: sample))
        }
    }

    @Test("numbers: seconds to the microsecond as Swift prints them, in every notation")
    func numbers() {
        var samples: [Double] = [0, 1e-7, 0.000001, 0.0000499, 0.00005, 0.000099, 0.0001, 0.000123, 0.1, 0.5, 1, 1.5, 12.345678,
                                 59.999999, 60, 3599.000001, 86400.25, 1e9, 123456789.123456, 1e15, 1e16, 1e22, 1e300,
                                 -0.0, -1.5, -0.000001, .infinity, -.infinity]
        var generator = SeededGenerator(seed: 16)
        for _ in 0..<20_000 { samples.append(Double(UInt64.random(in: 0..<100_000_000_000, using: &generator)) / 1_000_000) }
        for _ in 0..<2_000 { samples.append(Double.random(in: 0..<1e12, using: &generator)) }
        for microseconds in 0..<3_000 { samples.append(Double(microseconds) / 1_000_000) }
        for sample in samples {
            var text = JSONText()
            text.append(number: sample)
            #expect(text.string == reference(number: sample), "\(sample)")
        }
        var nan = JSONText()
        nan.append(number: .nan)
        #expect(nan.string == reference(number: .nan))
    }

    @Test("integers and keys")
    func integersAndKeys() {
        var text = JSONText()
        text.append(byte: UInt8(ascii: "{"))
        text.append(key: "a"); text.append(integer: UInt64(0))
        text.append(key: "b"); text.append(integer: UInt64.max)
        text.append(key: "c"); text.append(integer: Int64.min)
        text.append(key: "d"); text.append(integer: Int64(-7))
        text.append(key: "e"); text.append(integer: UInt64(1_000_000))
        text.append(byte: UInt8(ascii: "}"))
        #expect(text.string == "{\"a\":0,\"b\":18446744073709551615,\"c\":-9223372036854775808,\"d\":-7,\"e\":1000000}")
    }
}
