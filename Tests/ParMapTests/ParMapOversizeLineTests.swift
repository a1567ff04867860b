// Issue 12, defect 8: a line too large for a request (over the host's frame limit of 64 MiB)
// must fail alone. Before, the whole chunk it shared with good lines failed "not run".
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Writes `lines` to `path`, each followed by a newline; an oversize line is `count` bytes of 'b'
/// written in pieces, so the test never holds it in memory.
private func writeLines(_ path: String, _ lines: [ParMapOversizeLineTests.Line]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    try #require(fd >= 0, "cannot create \(path)")
    defer { close(fd) }
    let piece = [UInt8](repeating: UInt8(ascii: "b"), count: 1 << 20)
    func put(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            try #require(written > 0, "write to \(path) failed")
            offset += written
        }
    }
    for line in lines {
        switch line {
        case .value(let value):
            try Array("\(value)\n".utf8).withUnsafeBytes(put)
        case .oversize(let count):
            var left = count
            while left > 0 {
                let n = min(left, piece.count)
                try piece.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                left -= n
            }
            try Array("\n".utf8).withUnsafeBytes(put)
        }
    }
}

@Suite("ParMap: oversize lines")
struct ParMapOversizeLineTests {
    enum Line { case value(Int), oversize(Int) }

    /// Runs `pmf_abort_on_7` (int64(int64): x + 1) over `lines`; returns the run.
    private func run(_ lines: [Line]) async throws -> ParMapRun {
        let directory = TemporaryDirectory()
        let input = directory.file("input.txt")
        try writeLines(input, lines)
        return try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7",
                                        "--signature", "int64(int64)", "--input", input],
                                       hostOptions: ["--retries", "0"], timeout: 180)
    }

    /// Every good line has its result; each oversize line, alone, the marker naming its size and the limit.
    private func expectOnlyOversizeLinesFail(_ run: ParMapRun, _ lines: [Line],
                                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.result.status == 1, "stderr: \(run.result.stderr)", sourceLocation: sourceLocation)
        #expect(run.lines.count == lines.count, "output: \(run.lines.map { $0.prefix(200) })", sourceLocation: sourceLocation)
        for (index, (line, got)) in zip(lines, run.lines).enumerated() {
            switch line {
            case .value(let value):
                #expect(got == String(value + 1)[...], "line \(index + 1): \(got.prefix(200))", sourceLocation: sourceLocation)
            case .oversize(let count):
                #expect(got.hasPrefix("#error: line \(index + 1): not run: request of "), "line \(index + 1): \(got.prefix(200))",
                        sourceLocation: sourceLocation)
                #expect(got.contains("exceeds the frame limit of 67108864 (the line is \(count) bytes)"),
                        "line \(index + 1): \(got.prefix(200))", sourceLocation: sourceLocation)
            }
        }
        let failed = lines.filter { if case .oversize = $0 { return true } else { return false } }.count
        #expect(run.report.contains("parmap: \(lines.count) items, \(lines.count - failed) ok, \(failed) failed"),
                "report: \(run.report)", sourceLocation: sourceLocation)
    }

    @Test("1, a 70 MB line, 3: only the 70 MB line fails, naming its size and the frame limit")
    func oneOversizeLine() async throws {
        let lines: [Line] = [.value(1), .oversize(70_000_000), .value(3)]
        let run = try await run(lines)
        expectOnlyOversizeLinesFail(run, lines)
        #expect(run.report.contains("parmap: failed line 2: not run: request of "), "report: \(run.report)")
        // Chunk 1-2 was split once; the report tells such splits from those after lost workers.
        #expect(run.report.contains("0 splits after lost workers, 1 after marshal errors"), "report: \(run.report)")
        // The host names the line too, once, as the failed task's reason.
        #expect(run.result.stderr.contains("line 2: not run: request of "), "stderr: \(run.result.stderr)")
    }

    @Test("21 lines with three oversize ones (two adjacent): the 18 good lines all have their results")
    func mixedOversizeLines() async throws {
        let limit = 64 << 20
        var lines: [Line] = (1...21).map { .value(100 + $0) }
        lines[2] = .oversize(limit + 1)
        lines[10] = .oversize(limit)
        lines[11] = .oversize(limit + 4096)
        let run = try await run(lines)
        expectOnlyOversizeLinesFail(run, lines)
    }
}
