// A write error on an output file (issue 12, defect 11, the output part): `--events /dev/full`
// opens fine and fails every write with ENOSPC, like a full disk. Before the fix the errors were
// ignored and the run exited 0; now one line names the file and the error, and the exit is 2.
import PluginHost
import TestSupport
import Testing

@Suite("Output write errors")
struct OutputWriteErrorTests {
    @Test("--events /dev/full: one line naming the file and ENOSPC, exit 2")
    func eventsOnAFullDisk() async throws {
        let result = try await HostProcess.run(["run", "-j", "1", "--events", "/dev/full", "chaos", "echo:a", "echo:b"])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(!result.signalled)
        let errors = result.errorLines.filter { $0.contains("/dev/full") }
        #expect(errors == ["plugin-host: error: --events /dev/full: write failed: No space left on device"],
                "stderr: \(result.stderr)")
        // The run itself went on: its report and summary are still printed.
        #expect(result.stdout.hasPrefix("chaos: 2 tasks, done 2"), "stdout: \(result.stdout)")
    }
}
