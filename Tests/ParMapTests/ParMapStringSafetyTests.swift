// Issue 12, defect 12: a NUL byte cut a string argument short without an error, and string
// results reached the output (and so the user's terminal) with their control bytes raw.
import Foundation
import Testing

@Suite("ParMap: strings in and out")
struct ParMapStringSafetyTests {
    @Test("a NUL byte in a string field is that line's error marker; the other lines run")
    func nulInStringField() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_length",
                                           "--signature", "int64(string)"],
                                          input: "abc\nab\0cd\n\nxyzw\n")
        #expect(run.result.status == 1, "stderr: \(run.result.stderr)")
        #expect(run.lines.map(String.init) == [
            "3",
            "#error: line 2: field 1 (string): contains a NUL byte: 'ab\\x00cd'",
            "0",
            "4",
        ])
        #expect(run.report.contains("parmap: 4 items, 3 ok, 1 failed"), "report: \(run.report)")
    }

    @Test("control bytes in a returned string are escaped as \\xNN; valid UTF-8 stays, invalid bytes and C1 controls are escaped")
    func controlBytesEscaped() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_controls",
                                           "--signature", "string()"],
                                          input: "\n")
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        #expect(run.lines.map(String.init) == ["a\\x1b[2Jb\\x07c\\x7fd\u{e9}e\\xc2\\x9bf\\xffg\\xe2\\x82"])
        let bytes = Array(run.lines.joined().utf8)
        #expect(!bytes.contains { $0 < 0x20 || $0 == 0x7f }, "no control byte reaches the output")
    }

    @Test("a string argument's control bytes come back escaped, and text echoed in an error marker is escaped too")
    func echoedTextEscaped() async throws {
        let upper = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_upper",
                                             "--signature", "string(string)"],
                                            input: "\u{1b}]0;owned\u{07}w\u{f6}rld\n")
        #expect(upper.result.status == 0, "stderr: \(upper.result.stderr)")
        #expect(upper.lines.map(String.init) == ["\\x1b]0;OWNED\\x07W\u{f6}RLD"])
        let bad = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7",
                                           "--signature", "int64(int64)"],
                                          input: "\u{1b}[2J\n8\n")
        #expect(bad.result.status == 1)
        #expect(bad.lines.map(String.init) == ["#error: line 1: field 1 (int64): not a decimal integer: '\\x1b[2J'", "9"])
        #expect(!bad.report.contains("\u{1b}"), "report: \(bad.report)")
    }
}
