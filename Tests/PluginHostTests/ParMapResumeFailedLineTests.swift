// A ParMap run journaled by its responses (output to standard output, so no checkpoints) whose
// input had a failed line: the chunk holding it lost its worker, was split down to the line, and
// the line failed in `on_task_lost`, which writes its `#error` line into the ordered output.
// Resuming the finished run used to end that line from the journal without telling ParMap, so
// its ordered output waited for the line forever (the run hung after the lines before it).
import Foundation
import TestSupport
import Testing

@Suite("A resumed run has the plugin judge its lost tasks again (ParMap failed lines, chaos losses)")
struct ParMapResumeFailedLineTests {
    /// Runs `arguments` journaled, then resumes the finished journal (with and without
    /// `--resume-failed`): each resumed run gives the first run's standard output and status.
    static func resumesLikeTheFirstRun(_ arguments: [String], in directory: TemporaryDirectory,
                                       firstRunShows expected: String = "#error: line ") async throws {
        let journal = directory.file("j")
        let first = try await HostProcess.run(["run", "-j", "2", "--quiet", "--journal", journal] + arguments)
        #expect(first.status == 1)
        #expect(first.stdout.contains(expected))
        for extra in [[], ["--resume-failed"]] {
            let again = try await HostProcess.run(["run", "-j", "2", "--quiet", "--resume", journal] + extra + arguments)
            #expect(again.status == first.status, "\(extra)")
            #expect(again.stdout == first.stdout, "\(extra)")
            #expect(again.stderr == first.stderr, "\(extra)")
        }
    }

    /// ParMap over the fixture's `symbol`, 8 lines to a chunk, output to standard output.
    static func parmap(_ symbol: String, _ signature: String, _ input: String) -> [String] {
        ["parmap", "--library", TestPaths.binDirectory + "/libParMapFixture.so", "--symbol", symbol, "--signature", signature,
         "--chunk", "8", "--input", input]
    }

    @Test("a line that crashed its worker (SIGSEGV): the resumed run's output is the first run's",
          .timeLimit(.minutes(1)))
    func crashedLine() async throws {
        let directory = TemporaryDirectory()
        var lines = (1...300).map { "x\($0)" }
        lines.insert("segv", at: 50)  // After x50, in the 7th chunk of 8.
        let input = directory.write("in", lines.joined(separator: "\n") + "\n")
        try await Self.resumesLikeTheFirstRun(Self.parmap("pmf_kill_master_once", "string(string)", input), in: directory)
    }

    @Test("a line that timed out (--timeout): the resumed run's output is the first run's",
          .timeLimit(.minutes(1)))
    func expiredLine() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("in", (1...150).map { "\($0)" }.joined(separator: "\n") + "\n")
        try await Self.resumesLikeTheFirstRun(["--timeout", "1"] + Self.parmap("pmf_hang_on_99", "double(double)", input), in: directory)
    }

    @Test("chaos: a crashed and a timed-out task judged by on_task_lost are judged again on resume (its report counts the losses)",
          .timeLimit(.minutes(1)))
    func chaosLosses() async throws {
        let directory = TemporaryDirectory()
        try await Self.resumesLikeTheFirstRun(["--timeout", "1", "chaos", "followup:2", "segv", "echo:a", "hang", "echo:b"],
                                              in: directory, firstRunShows: "lost 4\n")
    }
}
