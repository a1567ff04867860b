import TestSupport
import Testing

/// `Examples/library`, the README's library example, built beside `plugin-host`: it runs, says
/// what failed, and refuses a missing worker in one line before anything runs.
@Suite struct LibraryExampleTests {
    static let example = TestPaths.binDirectory + "/library-example"

    @Test func verifiesTheBundledDatabase() async throws {
        let result = try await HostProcess.run([MetamathData.example], executable: Self.example)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.contains("8 proofs: 8 verified, 0 failed") == true, "stdout: \(result.stdout)")
        #expect(lines.last?.hasSuffix("tasks done, 0 failed") == true, "stdout: \(result.stdout)")
    }

    @Test func printsEachFailedTaskAndExitsOne() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("broken.mm", try MetamathData.exampleReplacing("ABCEEABEACEEDABCFG", with: "ABCEEABEACEEDACBFG"))
        let result = try await HostProcess.run([file], executable: Self.example)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let failures = result.stdout.split(separator: "\n").filter { $0.hasPrefix("task ") }
        #expect(failures.count == 1 && failures[0].contains("failed: "), "stdout: \(result.stdout)")
        #expect(result.stdout.hasSuffix(" 1 failed\n"), "stdout: \(result.stdout)")
    }

    @Test func aMissingWorkerIsOneLineBeforeTheRun() async throws {
        let result = try await HostProcess.run([MetamathData.example, "/nonexistent/plugin-worker"], executable: Self.example)
        #expect(result.status == 2)
        #expect(result.stdout == "library-example: /nonexistent/plugin-worker: worker executable not found or not executable\n")
    }
}
