// A `plugin-host` process run by a test, and what it produced.
import Foundation
import PluginProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a `plugin-host` invocation produced.
public struct CLIResult {
    public var status: Int32
    public var signalled: Bool
    public var stdout: String
    public var stderr: String

    /// Non-empty stderr lines.
    public var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
}

/// A running `plugin-host` process whose output goes to files in a temporary directory.
public final class HostProcess: @unchecked Sendable {
    public let process = Process()
    public let directory = TemporaryDirectory()
    private let exited = DispatchSemaphore(value: 0)
    private let outPath: String
    private let errPath: String

    /// `standardInput`: a file to read as stdin (default: /dev/null); `environment`: variables
    /// set for the process (and so its workers) on top of this process's environment (without
    /// make's MAKEFLAGS and MFLAGS); `executable`: another program built beside `plugin-host`
    /// (the library example).
    public init(_ arguments: [String], standardInput: String? = nil, environment: [String: String] = [:],
                executable: String = TestPaths.pluginHost) throws {
        outPath = directory.write("stdout", "")
        errPath = directory.write("stderr", "")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Not under make unless the test says so: a `make -jN test` would otherwise hand every
        // host a MAKEFLAGS naming a jobserver it cannot reach (and a warning saying so).
        var inherited = ProcessInfo.processInfo.environment
        for name in ["MAKEFLAGS", "MFLAGS"] { inherited[name] = nil }
        process.environment = inherited.merging(environment) { _, new in new }
        if let standardInput {
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: standardInput))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        handle = ProcessHandle(pid: process.processIdentifier)
    }

    /// The process by its pidfd, opened at once: killing it after a time-out never hits a pid
    /// that Foundation reaped meanwhile and the kernel gave to another process.
    private var handle: ProcessHandle?

    public var pid: Int32 { process.processIdentifier }

    /// What the process wrote to stderr so far.
    public var stderrSoFar: String { String(decoding: ProcessProbe.readFile(errPath) ?? [], as: UTF8.self) }

    /// Waits (at most 30 s, polling every 10 ms) until stderr contains `text`; false if it never did.
    public func waitForStderr(containing text: String) async throws -> Bool {
        for _ in 0..<3_000 {
            if stderrSoFar.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return stderrSoFar.contains(text)
    }

    /// Waits for the exit without blocking a cooperative thread; kills the process after `timeout`.
    public func result(timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async -> CLIResult {
        let exited = self.exited
        let finished: Bool = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: exited.wait(timeout: .now() + timeout) == .success)
            }
        }
        if !finished {
            Issue.record("plugin-host did not exit within \(timeout) s", sourceLocation: sourceLocation)
            handle?.send(signal: SIGKILL)
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { exited.wait(); continuation.resume() }
            }
        }
        return CLIResult(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                         stdout: String(decoding: ProcessProbe.readFile(outPath) ?? [], as: UTF8.self),
                         stderr: String(decoding: ProcessProbe.readFile(errPath) ?? [], as: UTF8.self))
    }

    public static func run(_ arguments: [String], standardInput: String? = nil, environment: [String: String] = [:],
                           executable: String = TestPaths.pluginHost,
                           timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async throws -> CLIResult {
        try await HostProcess(arguments, standardInput: standardInput, environment: environment, executable: executable)
            .result(timeout: timeout, sourceLocation: sourceLocation)
    }
}
