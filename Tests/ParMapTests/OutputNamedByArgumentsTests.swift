// Review of issue 12, defect 2: the host's --events was compared only with files that already
// existed. `parmap --output F --events F` with F not there yet passed the check; parmap then
// created F, --events truncated and wrote it too, and the run ended with exit 0 and ParMap's
// results lost among the events. (With F already there, the same run was refused.) An output at
// a place the plugin's arguments name is now refused whether or not the file exists yet.
import Foundation
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Outputs named by the plugin's arguments")
struct OutputNamedByArgumentsTests {
    @Test("parmap --output F --events F, F not there yet (also as --output=F, through ./, through a dangling link): exit 2, one line, nothing written",
          arguments: [0, 1, 2, 3])
    func eventsOverPluginOutput(form: Int) async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("input.txt", "1\n2\n3\n")
        let output = directory.file("out.txt")
        let dangling = directory.file("dangling.txt")
        try #require(symlink(output, dangling) == 0)
        let function = ["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7", "--signature", "int64(int64)",
                        "--input", input]
        let (outputArguments, events): ([String], String)
        switch form {
        case 0: (outputArguments, events) = (["--output", output], output)
        case 1: (outputArguments, events) = (["--output=\(output)"], output)
        case 2: (outputArguments, events) = (["--output", output], directory.path + "/./out.txt")
        default: (outputArguments, events) = (["--output", dangling], output)
        }
        let result = try await HostProcess.run(["run", "-j", "1", "--no-progress", "--events", events, "parmap"]
                                               + function + outputArguments)
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--events \(events): the plugin's arguments name the same file"), "stderr: \(result.stderr)")
        #expect(access(output, F_OK) != 0, "the output was created")
    }

    @Test("an argument that names no file and another new --events file: the run goes ahead")
    func unrelatedNewFiles() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("input.txt", "1\n2\n3\n")
        let output = directory.file("out.txt")
        let events = directory.file("events.jsonl")
        let result = try await HostProcess.run(["run", "-j", "1", "--no-progress", "--events", events, "parmap",
                                                "--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7",
                                                "--signature", "int64(int64)", "--input", input, "--output", output])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(String(decoding: ProcessProbe.readFile(output) ?? [], as: UTF8.self) == "2\n3\n4\n")
        #expect(String(decoding: ProcessProbe.readFile(events) ?? [], as: UTF8.self).contains("\"task-ended\""))
    }
}
