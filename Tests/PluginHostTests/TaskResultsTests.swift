// --results DIR: each attempt's worker output in its own file, every task's outcome, names that
// cannot leave DIR, megabytes of stderr kept whole and in order.
import Foundation
import PluginHost
import TestSupport
import Testing

@Suite("Per-task results")
struct TaskResultsTests {
    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing \(path)>" }

    @Test("megabytes of stderr from a persistent worker: all in the task's attempt file, in order; the terminal keeps the lines unless --quiet")
    func megabytesOfStderr() async throws {
        for quiet in [false, true] {
            let directory = TemporaryDirectory()
            let results = directory.file("results")
            let result = try await HostProcess.run(["run", "-j", "1", "--policy", "persistent", "--results", results]
                + (quiet ? ["--quiet"] : []) + ["chaos", "echo:before", "spew:4096", "stdout:after"])
            #expect(result.status == 0, "stderr: \(result.stderr.suffix(500))")
            let lines = Self.read(results + "/chaos/#1_spew_4096/attempt-1.stderr").split(separator: "\n")
            #expect(lines.count == 4096 * 16 + 1)
            let expected = (0..<(4096 * 16)).map { "chaos: spew line " + String(repeating: "0", count: 10 - String($0).count) + String($0) + " " }
            #expect(zip(lines, expected).allSatisfy { $0.hasPrefix($1) }, "every line, in order")
            #expect(lines.last == "chaos: spewed 4096 KiB", "what the plugin printed on stdout")
            let outcome = Self.read(results + "/chaos/#1_spew_4096/outcome")
            #expect(outcome.hasPrefix("done\nattempts: 1\npid=") && outcome.hasSuffix(" O:chaos spewed 4096\n"), "\(outcome)")
            #expect(Self.read(results + "/chaos/#2_stdout_after/attempt-1.stderr") == "after\n")
            #expect(!FileManager.default.fileExists(atPath: results + "/chaos/#0_echo_before"), "a quiet task has no directory")
            let index = Self.read(results + "/tasks.jsonl").split(separator: "\n")
            #expect(index.count == 3)
            #expect(index.contains { $0.contains("\"name\":\"#0 echo:before\",\"outcome\":\"done\",\"attempts\":1") && !$0.contains("directory") })
            #expect(index.contains { $0.contains("\"directory\":\"chaos/#1_spew_4096\"") })
            let shown = result.stderr.split(separator: "\n").filter { $0.hasPrefix("[chaos:0:") }.count
            #expect(shown == (quiet ? 0 : 4096 * 16 + 2), "quiet: \(quiet)")
        }
    }

    @Test("a worker that dies: each attempt's last words in its own file, the outcome names the death")
    func attemptsOfADyingTask() async throws {
        let directory = TemporaryDirectory()
        let results = directory.file("results")
        let result = try await HostProcess.run(["run", "-j", "2", "--retries", "1", "--results", results, "chaos", "noisy-death", "echo:x"])
        #expect(result.status == 1)
        for attempt in 1...2 {
            #expect(Self.read(results + "/chaos/#0_noisy-death/attempt-\(attempt).stderr")
                    == "chaos: last words 1\nchaos: last words 2\nchaos: last words 3\n")
        }
        let outcome = Self.read(results + "/chaos/#0_noisy-death/outcome")
        #expect(outcome.hasPrefix("failed\nattempts: 2\nworker died 2 time(s)"), "\(outcome)")
        #expect(outcome.contains("SIGABRT"))
    }

    @Test("hostile task names (/, .., shell metacharacters) stay inside DIR")
    func hostileNames() async throws {
        let directory = TemporaryDirectory()
        let results = directory.file("inner/results")
        let names = ["../../../escaped", "/etc/passwd", "$(touch pwned); `id` | cat > x & ~", "..", "a\\b\"c'd*e?f[g]"]
        let result = try await HostProcess.run(["run", "-j", "1", "--results", results, "chaos"] + names.map { "stdout:" + $0 })
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let root = URL(fileURLWithPath: results).resolvingSymlinksInPath().path
        var files: [String] = []
        let walker = try #require(FileManager.default.enumerator(atPath: root))
        while let next = walker.nextObject() as? String { files.append(next) }
        let attempts = files.filter { $0.hasSuffix("/attempt-1.stderr") }
        #expect(attempts.count == names.count, "\(files)")
        for file in attempts {
            let parts = file.split(separator: "/")
            #expect(parts.count == 3 && parts[0] == "chaos", "\(file)")
            #expect(!parts[1].hasPrefix(".") && !parts[1].contains("$") && !parts[1].contains("`") && !parts[1].contains(" "), "\(file)")
        }
        for name in names {
            #expect(attempts.contains { Self.read(root + "/" + $0) == name + "\n" }, "\(name)")
        }
        // Nothing written beside DIR or above it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["inner"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("inner")) == ["results"])
    }

    @Test("a results path component: safe for any name, long names cut apart by a hash")
    func safeComponents() {
        #expect(ResultsPath.component("..") == "_..")
        #expect(ResultsPath.component(".hidden") == "_.hidden")
        #expect(ResultsPath.component("") == "_")
        #expect(ResultsPath.component("a/b c") == "a_b_c")
        #expect(ResultsPath.component("é") == "__")
        let long1 = String(repeating: "x", count: 300) + "1", long2 = String(repeating: "x", count: 300) + "2"
        #expect(ResultsPath.component(long1).utf8.count <= 120)
        #expect(ResultsPath.component(long1) != ResultsPath.component(long2))
    }

    @Test("--results where a file is: one line, exit 2")
    func resultsOnAFile() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("plain", "x")
        let result = try await HostProcess.run(["run", "--results", file, "chaos", "echo"])
        #expect(result.status == 2)
        #expect(result.errorLines == ["plugin-host: error: --results \(file): cannot create the directory: Not a directory"], "\(result.stderr)")
    }
}
