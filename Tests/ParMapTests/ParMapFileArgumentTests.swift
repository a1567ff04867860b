// Issue 12, defect 2 (ParMap's part): `parmap --input F --output F` truncated F before reading
// it and exited 0 with "0 items". An output that is the same file as an input (the same path, a
// symlink, a hard link; standard input; the library) is refused before anything is written.
// Also: an --input that is a directory is one line naming it, not a read error at the end.
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("ParMap: --input and --output files; the output is never an input")
struct ParMapFileArgumentTests {
    private static let text = numberLines(1...50)

    /// Runs parmap with `arguments` (and `standardInput`), expects the refusal naming `output`,
    /// and that `protected` is byte for byte what it was.
    private func expectRefused(_ arguments: [String], standardInput: String? = nil, output: String, sameAs: String,
                               protected: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try #require(ProcessProbe.readFile(protected), sourceLocation: sourceLocation)
        let result = try await HostProcess.run(["run", "--no-progress", "parmap"] + arguments,
                                               standardInput: standardInput, sourceLocation: sourceLocation)
        #expect(result.status == 2, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains("\(output): --output is the same file as \(sameAs)"), "stderr: \(result.stderr)",
                sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
        #expect(ProcessProbe.readFile(protected) == before, "\(protected) was changed", sourceLocation: sourceLocation)
    }

    private let function = ["--library", ParMapRun.fixture, "--symbol", "pmf_abort_on_7", "--signature", "int64(int64)"]

    @Test("--output is the input's path, a symlink to it, or a hard link to it: refused, exit 2, the input unchanged")
    func sameFileRefused() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("input.txt", Self.text)
        let symlinkPath = directory.file("symlink.txt")
        let hardLink = directory.file("hardlink.txt")
        try #require(symlink(input, symlinkPath) == 0)
        try #require(link(input, hardLink) == 0)
        for output in [input, symlinkPath, hardLink] {
            try await expectRefused(function + ["--input", input, "--output", output], output: output,
                                    sameAs: "--input", protected: input)
        }
        // The input given through a symlink, the output by its own path.
        try await expectRefused(function + ["--input", symlinkPath, "--output=\(input)"], output: input,
                                sameAs: "--input", protected: input)
    }

    @Test("--output is the file standard input reads: refused, the file unchanged")
    func standardInputRefused() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("input.txt", Self.text)
        try await expectRefused(function + ["--output", input], standardInput: input, output: input,
                                sameAs: "standard input", protected: input)
    }

    @Test("--output is the library: refused, the library unchanged")
    func libraryRefused() async throws {
        let directory = TemporaryDirectory()
        let library = directory.file("libcopy.so")
        let bytes = try #require(ProcessProbe.readFile(ParMapRun.fixture))
        try #require(FileManager.default.createFile(atPath: library, contents: Data(bytes)))
        let input = directory.write("input.txt", Self.text)
        try await expectRefused(["--library", library, "--symbol", "pmf_abort_on_7", "--signature", "int64(int64)",
                                 "--input", input, "--output", library],
                                output: library, sameAs: "--library", protected: library)
    }

    @Test("a different, existing output is still truncated and rewritten")
    func otherOutputRewritten() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("input.txt", numberLines(1...3))
        let output = directory.write("output.txt", String(repeating: "old content\n", count: 100))
        let result = try await HostProcess.run(["run", "--no-progress", "parmap"] + function
                                               + ["--input", input, "--output", output])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(ProcessProbe.readFile(output) == Array("2\n3\n4\n".utf8))
    }

    @Test("an --input that is a directory: one line naming it, exit 2, no output file")
    func directoryInput() async throws {
        let directory = TemporaryDirectory()
        let output = directory.file("output.txt")
        let result = try await HostProcess.run(["run", "--no-progress", "parmap"] + function
                                               + ["--input", directory.path, "--output", output])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(directory.path): --input is a directory"), "stderr: \(result.stderr)")
        #expect(access(output, F_OK) != 0, "no output file is created")
    }

    @Test("standard output appended to the input file ('>> F'): refused, F unchanged (it would read its own output)")
    func standardOutputAppendingToInputRefused() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("input.txt", Self.text)
        let errors = directory.write("stderr.txt", "")
        let before = try #require(ProcessProbe.readFile(input))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.pluginHost)
        process.arguments = ["run", "--no-progress", "parmap"] + function + ["--input", input]
        process.standardInput = FileHandle.nullDevice
        let appending = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        try appending.seekToEnd()
        process.standardOutput = appending
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        try appending.close()
        let finished = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: exited.wait(timeout: .now() + 60) == .success) }
        }
        if !finished {
            Issue.record("plugin-host did not exit within 60 s")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let stderr = String(decoding: ProcessProbe.readFile(errors) ?? [], as: UTF8.self)
        #expect(process.terminationStatus == 2, "stderr: \(stderr)")
        #expect(stderr.contains("standard output is the same file as --input"), "stderr: \(stderr)")
        #expect(ProcessProbe.readFile(input) == before, "the input was changed")
    }
}
