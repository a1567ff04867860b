// The parmap task kind (Plugins/ParMap, C + libffi), run through the built `plugin-host` like a
// user would: results bit for bit, crash and hang isolation by bisection, error markers, setup
// errors, competence (Old-worker requests without the library), ordering, stdin/stdout, and the
// master's memory on a large input, the progress line.
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs `plugin-host run ... parmap ...` and collects the output file.
struct ParMapRun {
    var result: CLIResult
    /// The lines of the output file (or of stdout when no --output was given).
    var lines: [Substring]

    static var fixture: String { TestPaths.binDirectory + "/libParMapFixture.so" }

    /// `hostOptions` go before the plugin name, `pluginArguments` after it. With `input`, the text
    /// is written to a file passed as --input (or given as stdin when `viaStandardStreams`).
    static func run(_ pluginArguments: [String], input: String? = nil, hostOptions: [String] = [],
                    viaStandardStreams: Bool = false, timeout: Double = 60,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws -> ParMapRun {
        let directory = TemporaryDirectory()
        var arguments = ["run", "-j", "2", "--no-progress"] + hostOptions + ["parmap"] + pluginArguments
        var standardInput: String?
        let outputPath = directory.file("output.txt")
        if let input {
            let path = directory.write("input.txt", input)
            if viaStandardStreams { standardInput = path } else { arguments += ["--input", path] }
        }
        if !viaStandardStreams { arguments += ["--output", outputPath] }
        let result = try await HostProcess.run(arguments, standardInput: standardInput, timeout: timeout,
                                               sourceLocation: sourceLocation)
        let text = viaStandardStreams ? result.stdout
            : String(decoding: ProcessProbe.readFile(outputPath) ?? [], as: UTF8.self)
        return ParMapRun(result: result, lines: text.split(separator: "\n", omittingEmptySubsequences: false).dropLast())
    }

    /// The report: on stdout when the output went to a file, on stderr otherwise.
    var report: String { result.stdout.contains("parmap: ") ? result.stdout : result.stderr }
}

/// Numbers 1...n, one per line.
func numberLines(_ range: ClosedRange<Int>) -> String {
    range.map(String.init).joined(separator: "\n") + "\n"
}

@Suite("ParMap plugin")
struct ParMapTests {
    @Test("cos from libm over 1,000,000 values equals Glibc's cos in this process, bit for bit")
    func cosBitForBit() async throws {
        // Values spread over many magnitudes (argument reduction matters), from a fixed seed.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var inputs: [Double] = []
        inputs.reserveCapacity(1_000_000)
        while inputs.count < 1_000_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let bits = state ^ (state >> 29)
            let value: Double = inputs.count % 2 == 0
                ? Double(bitPattern: bits) : (Double(bits >> 11) / Double(1 << 53) - 0.5) * 2000
            if value.isFinite { inputs.append(value) }
        }
        let text = inputs.map { "\($0)" }.joined(separator: "\n") + "\n"
        let run = try await ParMapRun.run(["--library", "libm.so.6", "--symbol", "cos", "--signature", "double(double)"],
                                          input: text)
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        try #require(run.lines.count == inputs.count)
        var mismatches = 0
        for (line, x) in zip(run.lines, inputs) {
            guard let got = Double(line), got.bitPattern == Glibc.cos(x).bitPattern else {
                if mismatches < 5 { Issue.record("cos(\(x)): got \(line), expected \(Glibc.cos(x))") }
                mismatches += 1
                continue
            }
        }
        #expect(mismatches == 0)
        #expect(run.report.contains("parmap: 1000000 items, 1000000 ok, 0 failed"), "report: \(run.report)")
    }

    @Test("a function that runs out of memory on one input under --worker-memory: that line is '#error: line 13: out of memory'")
    func outOfMemoryIsolated() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_alloc_on_13",
                                           "--signature", "double(double)", "--chunk", "16"],
                                          input: numberLines(1...40), hostOptions: ["--worker-memory", "256", "--oom-retries", "0"])
        #expect(run.result.status == 1)
        try #require(run.lines.count == 40, "output: \(run.lines)")
        for (index, line) in run.lines.enumerated() {
            let x = index + 1
            #expect(line == (x == 13 ? "#error: line 13: out of memory" : String(2 * x)[...]))
        }
        #expect(run.report.contains("parmap: failed line 13: out of memory"), "report: \(run.report)")
    }

    @Test("a function that segfaults on one input: that line is '#error: line 13: SIGSEGV', every other line is right")
    func segfaultIsolated() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_segv_on_13",
                                           "--signature", "double(double)", "--chunk", "16"],
                                          input: numberLines(1...100))
        #expect(run.result.status == 1)
        try #require(run.lines.count == 100, "output: \(run.lines)")
        for (index, line) in run.lines.enumerated() {
            let x = index + 1
            #expect(line == (x == 13 ? "#error: line 13: SIGSEGV" : String(2 * x)[...]))
        }
        // Bisection: 1-16, 9-16, 13-16, 13-14 were split; nothing else was lost.
        #expect(run.report.contains("parmap: 100 items, 99 ok, 1 failed; 7 chunks, 4 splits after lost workers"),
                "report: \(run.report)")
        #expect(run.report.contains("parmap: failed line 13: SIGSEGV"))
        // The host reports the death of the worker that ran the poison item.
        #expect(run.result.stderr.contains("parmap task"), "stderr: \(run.result.stderr)")
        #expect(run.result.stderr.contains("line 13: SIGSEGV"))
        #expect(run.result.stderr.contains("killed by signal 11"))
    }

    @Test("a function that aborts: '#error: line 7: SIGABRT', ordered output intact around the split chunk")
    func abortIsolated() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7",
                                           "--signature", "int64(int64)", "--chunk", "10"],
                                          input: numberLines(1...95), hostOptions: ["--retries", "0"])
        #expect(run.result.status == 1)
        let expected = (1...95).map { $0 == 7 ? "#error: line 7: SIGABRT" : String($0 + 1) }
        #expect(run.lines.map(String.init) == expected)
        #expect(run.report.contains("parmap: failed line 7: SIGABRT"), "report: \(run.report)")
    }

    @Test("a function that exits the worker: '#error: line 5: exit 3'")
    func exitIsolated() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_exit_on_5",
                                           "--signature", "int64(int64)", "--chunk", "4"],
                                          input: numberLines(1...12), hostOptions: ["--retries", "0"])
        #expect(run.result.status == 1)
        let expected: [String] = (1...12).map { $0 == 5 ? "#error: line 5: exit 3" : String($0) }
        #expect(run.lines.map(String.init) == expected)
    }

    @Test("--policy one-shot: every chunk goes to a fresh worker with the library; results unchanged")
    func oneShotPolicy() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7",
                                           "--signature", "int64(int64)", "--chunk", "5", "--stats"],
                                          input: numberLines(10...39), hostOptions: ["--policy", "one-shot"])
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        let expected: [String] = (10...39).map { String($0 + 1) }
        #expect(run.lines.map(String.init) == expected)
        #expect(run.report.contains("fresh requests 6 ("), "report: \(run.report)")
        #expect(run.report.contains("old requests 0 ("), "report: \(run.report)")
        #expect(run.result.stderr.contains("6 workers started"), "stderr: \(run.result.stderr)")
    }

    @Test("a function that hangs on one input: --timeout kills it, '#error: line 99: timeout', the rest is right")
    func hangIsolated() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_hang_on_99",
                                           "--signature", "double(double)", "--chunk", "8"],
                                          input: numberLines(1...120), hostOptions: ["--timeout", "0.5", "--retries", "0"])
        #expect(run.result.status == 1)
        let expected = (1...120).map { $0 == 99 ? "#error: line 99: timeout" : String($0) }
        #expect(run.lines.map(String.init) == expected)
        #expect(run.report.contains("parmap: failed line 99: timeout"), "report: \(run.report)")
        #expect(run.result.stderr.contains("line 99: timeout"), "stderr: \(run.result.stderr)")
    }

    @Test("types: strings in and out, mixed arguments, bytes, bool, small ints, float, void, no argument", arguments: [
        ("pmf_upper", "string(string)", "hello\n\nwörld 42\n", "HELLO\n\nWöRLD 42\n"),
        ("pmf_length", "int64(string)", "abc\n\n", "3\n0\n"),
        ("pmf_mixed", "double(int8, uint16, int64, float, double, bool, string)",
         "-1\t2\t3\t0.5\t0.25\ttrue\tabc\n-128\t65535\t-9000000000\t-0.5\t1e300\t0\t\n",
         "1007.75\n1e+300\n"),
        // Doubles: the shortest digits that read back exactly (Grisu2), laid out like %g.
        ("pmf_hang_on_99", "double(double)", "0.1\n-0\n1e23\n5e-324\ninf\n-inf\nnan\n1e16\n1e17\n0.00001\n-123.456\n0x1p-2\n",
         "0.1\n-0\n9.999999999999999e+22\n5e-324\ninf\n-inf\nnan\n10000000000000000\n1e+17\n0.00001\n-123.456\n0.25\n"),
        ("pmf_bytes_checksum", "uint64(bytes)", "0102ff\n\nFFff\n", "770\n0\n765\n"),
        ("pmf_is_even", "bool(int64)", "3\n-4\n", "false\ntrue\n"),
        ("pmf_neg8", "int8(int8)", "5\n-127\n", "-5\n127\n"),
        ("pmf_half", "float(float)", "3\n0.1\n", "1.5\n0.0500000007\n"),
        ("pmf_nothing", "void(int32)", "1\n2\n", "\n\n"),
        ("pmf_max_u64", "uint64()", "\n", "18446744073709551615\n"),
        ("pmf_null", "string(void)", "\n", "#null\n"),
        ("pmf_escapes", "string()", "\n", "a\\tb\\nc\\\\d\n"),
    ])
    func types(symbol: String, signature: String, input: String, output: String) async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", symbol, "--signature", signature],
                                          input: input)
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        #expect(run.lines.map { $0 + "\n" }.joined() == output)
    }

    @Test("a bad line is a failed item naming its line and field; the run goes on and exits 1")
    func badLines() async throws {
        let input = "1\t2\t3\t4\t5\ttrue\tx\n1\t2\n300\t1\t1\t1\t1\t1\tx\n1\t-2\t1\t1\t1\t1\tx\n1\t1\t1\tpi\t1\t1\tx\n1\t1\t1\t1\t1\tmaybe\tx\n0\t0\t0\t0\t0\t0\t\n"
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_mixed",
                                           "--signature", "double(int8, uint16, int64, float, double, bool, string)"],
                                          input: input)
        #expect(run.result.status == 1)
        #expect(run.lines.map(String.init) == [
            "1016",
            "#error: line 2: expected 7 fields, got 2",
            "#error: line 3: field 1 (int8): out of range: '300'",
            "#error: line 4: field 2 (uint16): out of range: '-2'",
            "#error: line 5: field 4 (float): not a number: 'pi'",
            "#error: line 6: field 6 (bool): not a bool (true, false, 1 or 0): 'maybe'",
            "0",
        ])
        #expect(run.report.contains("parmap: 7 items, 2 ok, 5 failed"), "report: \(run.report)")
        #expect(run.report.contains("parmap: failed line 3: field 1 (int8): out of range: '300'"))
    }

    @Test("setup errors: one line naming the cause, exit 2", arguments: [
        (["--library", "libnosuch.so.9", "--symbol", "cos", "--signature", "double(double)"],
         "parmap: cannot load library 'libnosuch.so.9'"),
        (["--library", "libm.so.6", "--symbol", "no_such_symbol", "--signature", "double(double)"],
         "parmap: symbol 'no_such_symbol' not found in 'libm.so.6'"),
        (["--library", "libm.so.6", "--symbol", "cos", "--signature", "double(quad)"],
         "parmap: unknown type 'quad' in signature 'double(quad)'"),
        (["--library", "libm.so.6", "--symbol", "cos", "--signature", "bytes(double)"],
         "bytes is an argument type only"),
        (["--library", "libm.so.6", "--symbol", "cos"], "--library, --symbol and --signature are required"),
        (["--library", "libm.so.6", "--symbol", "cos", "--signature", "double(double)", "--chunk", "0"],
         "--chunk takes a number of items"),
        (["--library", "libm.so.6", "--symbol", "cos", "--signature", "double(double)", "--input", "/nonexistent/in"],
         "cannot read input '/nonexistent/in'"),
    ])
    func setupErrors(arguments: [String], message: String) async throws {
        let result = try await HostProcess.run(["run", "--no-progress", "parmap"] + arguments)
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test("requests to Old workers carry the chunk only: no library, symbol or signature (sizes as workers received them)")
    func oldWorkerRequestsOmitSetup() async throws {
        let signature = "double(double)"
        let symbol = "pmf_segv_on_13"
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", symbol,
                                           "--signature", signature, "--chunk", "10", "--stats"],
                                          input: numberLines(100...1099))
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        let stats = try #require(run.report.split(separator: "\n").first { $0.hasPrefix("parmap stats:") })
        let numbers = stats.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        // fresh requests F (B bytes, chunks C bytes); old requests O (B bytes, chunks C bytes); ...
        try #require(numbers.count >= 6, "stats: \(stats)")
        let (fresh, freshBytes, freshChunks, old, oldBytes, oldChunks) =
            (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
        #expect(fresh + old == 100)
        #expect(fresh >= 1 && fresh <= 2, "one fresh request per worker: \(stats)")
        #expect(old >= 98)
        let header = 20
        let setup = 12 + ParMapRun.fixture.utf8.count + symbol.utf8.count + signature.utf8.count
        #expect(oldBytes == oldChunks + old * header, "old requests are header + chunk: \(stats)")
        // Fresh requests also carry the setup, and a blob reference to the library for a worker
        // on a machine without it: 4 length bytes + tag + "/proc/PID/fd/N" for a local worker.
        let extra = freshBytes - (freshChunks + fresh * (header + setup))
        #expect(extra % fresh == 0 && (4 + 1 + 12...4 + 1 + 32).contains(extra / fresh),
                "fresh requests also carry the setup and the library's blob reference: \(stats)")
    }

    @Test("ordered output follows the input; unordered output has the same lines, each chunk in order")
    func orderedAndUnordered() async throws {
        let arguments = ["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7", "--signature", "int64(int64)",
                         "--chunk", "10"]
        let input = numberLines(1...400)
        let expected = (1...400).map { $0 == 7 ? "#error: line 7: SIGABRT" : String($0 + 1) }
        let ordered = try await ParMapRun.run(arguments + ["--ordered"], input: input, hostOptions: ["--retries", "0"])
        #expect(ordered.lines.map(String.init) == expected)
        let unordered = try await ParMapRun.run(arguments + ["--unordered"], input: input, hostOptions: ["--retries", "0"])
        #expect(unordered.result.status == 1)
        #expect(unordered.lines.map(String.init).sorted() == expected.sorted())
        // Lines of one chunk of ten stay together and in order (chunk 1-10 was split, so skip it).
        let values = unordered.lines.compactMap { Int($0) }
        for start in stride(from: 11, to: 400, by: 10) {
            let at = try #require(values.firstIndex(of: start + 1))
            #expect(Array(values[at..<at + 10]) == Array((start + 1)...(start + 10)))
        }
    }

    @Test("ordered output holds only a window of chunks behind a slow first chunk (here one that hangs until --timeout)")
    func orderedHoldsAWindowOnly() async throws {
        // Line 1 hangs; 20,000 quick lines follow. Unbounded, the other worker would finish them
        // all while line 1 waits for its timeouts, and the master would hold all their output.
        let input = "99\n" + numberLines(100...20099)
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_hang_on_99",
                                           "--signature", "double(double)", "--chunk", "10", "--stats"],
                                          input: input, hostOptions: ["--timeout", "0.5", "--retries", "0"])
        #expect(run.result.status == 1)
        let expected = ["#error: line 1: timeout"] + (100...20099).map { String($0) }
        #expect(run.lines.map(String.init) == expected)
        let stats = try #require(run.report.split(separator: "\n").first { $0.hasPrefix("parmap stats:") })
        func number(after label: String) -> Int? {
            guard let range = stats.range(of: label) else { return nil }
            return Int(stats[range.upperBound...].prefix { $0.isNumber })
        }
        let held = try #require(number(after: "peak held output "))
        let outstanding = try #require(number(after: "peak outstanding chunks "))
        let window = try #require(number(after: " of window "))
        // 4 splits isolate line 1 (10 -> 5 -> 3 -> 2 -> 1), each adding one piece.
        #expect(outstanding <= window + 4, "stats: \(stats)")
        #expect(held < window * 10 * 6, "held \(held) bytes: at most a window of 10-line chunks")
    }

    @Test("standard input to standard output; the report then goes to stderr, not into the output")
    func standardStreams() async throws {
        let run = try await ParMapRun.run(["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7",
                                           "--signature", "int64(int64)"],
                                          input: numberLines(100...2099), viaStandardStreams: true)
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        let expected: [String] = (100...2099).map { String($0 + 1) }
        #expect(run.lines.map(String.init) == expected)
        #expect(!run.result.stdout.contains("parmap:"))
        #expect(run.result.stderr.contains("parmap: 2000 items, 2000 ok, 0 failed"))
    }

    @Test("the master's memory stays flat: 10x the input adds far less than the input's size, outstanding chunks stay in the window")
    func boundedMemory() async throws {
        func peak(lines: Int) async throws -> (rssKiB: Int, outstanding: Int, window: Int, bytes: Int) {
            let directory = TemporaryDirectory()
            let input = directory.file("input.txt")
            let seq = Process()
            seq.executableURL = URL(fileURLWithPath: "/usr/bin/seq")
            seq.arguments = ["1", String(lines)]
            seq.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.write("input.txt", "")))
            try seq.run()
            seq.waitUntilExit()
            let bytes = (try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
            let result = try await HostProcess.run(["run", "-j", "2", "--no-progress", "parmap", "--library", "libm.so.6",
                                                    "--symbol", "sqrt", "--signature", "double(double)", "--stats",
                                                    "--input", input, "--output", directory.file("out.txt")])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let stats = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("parmap stats:") })
            func number(after label: String) -> Int? {
                guard let range = stats.range(of: label) else { return nil }
                return Int(stats[range.upperBound...].prefix { $0.isNumber })
            }
            return (try #require(number(after: "master peak RSS ")), try #require(number(after: "peak outstanding chunks ")),
                    try #require(number(after: " of window ")), bytes)
        }
        let small = try await peak(lines: 200_000)
        let large = try await peak(lines: 2_000_000)
        #expect(large.bytes > 14_000_000)
        #expect(large.outstanding <= large.window && small.outstanding <= small.window)
        // Holding the input would add 14 MB, holding the output more: allow a few MiB of noise.
        #expect(large.rssKiB - small.rssKiB < 6 * 1024, "peak RSS \(small.rssKiB) KiB -> \(large.rssKiB) KiB")
    }

    @Test("the progress line counts items (the host's progress extension, ph.progress/1)")
    func progressCountsItems() async throws {
        let run = try await ParMapRun.run(["--library", "libm.so.6", "--symbol", "cos", "--signature", "double(double)"],
                                          input: numberLines(1...1000), hostOptions: ["--progress"])
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        #expect(run.result.stderr.contains("/? items ("), "stderr: \(run.result.stderr)")
    }

    @Test("list and describe show the parmap plugin")
    func listAndDescribe() async throws {
        let list = try await HostProcess.run(["list"])
        #expect(list.stdout.contains("parmap"), "stdout: \(list.stdout)")
        #expect(!list.stderr.contains("ParMapFixture"), "the fixture library is not a plugin and not a problem")
        let describe = try await HostProcess.run(["describe", "parmap"])
        #expect(describe.stdout.contains("--signature"))
    }
}
