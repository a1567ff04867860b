// The README's ParMap pipeline example runs as written (it once failed every item: it passed one
// field per line to a two-argument signature).
import Foundation
import TestSupport
import Testing

@Suite("ParMap: the README's example")
struct ReadmeExampleTests {
    @Test("the README's seq | awk | parmap pipeline maps all 100 lines")
    func pipelineRunsAsWritten() throws {
        let readme = try String(contentsOfFile: MetamathData.packageRoot + "/README.md", encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## ParMap:").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```sh\n").dropFirst().first?
            .components(separatedBy: "```").first)
        // The command that starts with `seq`, with its continuation line.
        let lines = block.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("seq ") })
        var command = ""
        for line in lines[start...] {
            // (The example's comments follow two blanks and a '#'; awk's program holds no '#'.)
            var text = line.replacingOccurrences(of: #"\s+# .*$"#, with: "", options: .regularExpression)
            let continues = text.hasSuffix("|") || text.hasSuffix("\\")
            if text.hasSuffix("\\") { text.removeLast() }
            command += text + " "
            if !continues { break }
        }
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = TestPaths.binDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        shell.environment = environment
        let output = Pipe(), errors = Pipe()
        shell.standardOutput = output
        shell.standardError = errors
        try shell.run()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0, "\(command)\n\(err)")
        let results = out.split(separator: "\n")
        #expect(results.count == 100)
        #expect(results.first == "2" && results.last == "1600", "ldexp(1, 1) and ldexp(100, 4)")
        #expect(err.contains("parmap: 100 items, 100 ok, 0 failed"), "\(err)")
    }
}
