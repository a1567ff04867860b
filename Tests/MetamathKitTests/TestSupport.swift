import Testing
@testable import MetamathKit
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory for one test's files, removed with everything written through
/// it when the last reference goes away (each test uses its own, so tests may run in parallel).
final class TemporaryDirectory: @unchecked Sendable {
    let path: String
    private var files: [String] = []
    private var directories: [String] = []

    init() {
        var template = Array("/tmp/metamathkit-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    deinit {
        for file in files { unlink(file) }
        for directory in directories.reversed() { rmdir(directory) }
        rmdir(path)
    }

    /// Remembers a file that code under test creates here, so it is removed too.
    func track(_ file: String) {
        files.append(file)
    }

    /// Writes `text` to `name` (which may contain a subdirectory, created as needed) and
    /// returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        writeBytes(name, Array(text.utf8))
    }

    /// Writes raw bytes.
    @discardableResult
    func writeBytes(_ name: String, _ bytes: [UInt8]) -> String {
        let full = "\(path)/\(name)"
        if let slash = full.utf8.lastIndex(of: UInt8(ascii: "/")) {
            let directory = String(full[..<slash])
            if directory != path && mkdir(directory, 0o755) == 0 { directories.append(directory) }
        }
        let descriptor = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(descriptor >= 0, "cannot create \(full)")
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let count = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                precondition(count > 0)
                done += count
            }
        }
        close(descriptor)
        if !files.contains(full) { files.append(full) }
        return full
    }
}

/// Reads a whole file (tests only).
func readFile(_ path: String) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        if count <= 0 { break }
        result.append(contentsOf: buffer[0 ..< count])
    }
    return result
}

/// Compiles `text` written as `name` in a fresh directory.
func compile(_ text: String, name: String = "test.mm") throws(DatabaseError) -> CompiledDatabase {
    let directory = TemporaryDirectory()
    return try CompiledDatabase.compile(path: directory.write(name, text))
}

/// The DatabaseError that compiling `text` throws (records a test issue when it compiles).
func databaseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> DatabaseError? {
    do {
        _ = try compile(text)
        Issue.record("the database compiled, but an error was expected", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Expects compiling `text` to fail at `line` with a message containing `fragment`.
func expectDatabaseError(_ text: String, line: Int, _ fragment: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error = databaseError(text, sourceLocation: sourceLocation) else { return }
    #expect(error.file.hasSuffix("test.mm"), "\(error)", sourceLocation: sourceLocation)
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
}

/// Compiles `text` and verifies the theorem labelled `label`.
func verify(_ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) -> ProofResult? {
    do {
        let database = try compile(text)
        guard let theorem = database.theorem(labeled: label) else {
            Issue.record("no theorem \(label)", sourceLocation: sourceLocation)
            return nil
        }
        return Verifier(database: database).verify(theorem: theorem.index)
    } catch {
        Issue.record("the database does not compile: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Expects the proof of `label` to fail at `step` with `label` and a message containing `fragment`.
func expectProofFailure(_ text: String, theorem: String, step: Int, label: String, _ fragment: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard let result = verify(text, theorem, sourceLocation: sourceLocation) else { return }
    guard case .failed(let failure) = result else {
        Issue.record("expected a failure, got \(result)", sourceLocation: sourceLocation)
        return
    }
    #expect(failure.step == step, "\(failure)", sourceLocation: sourceLocation)
    #expect(failure.label == label, "\(failure)", sourceLocation: sourceLocation)
    #expect(failure.message.contains(fragment), "\(failure)", sourceLocation: sourceLocation)
}

/// The shared databases: `../shared/data/metamath` beside the package root.
enum SharedData {
    static var directory: String {
        // #filePath is <root>/Tests/MetamathKitTests/TestSupport.swift.
        var path = #filePath
        for _ in 0 ..< 3 {
            if let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) { path = String(path[..<slash]) }
        }
        return path + "/../shared/data/metamath"
    }

    /// The path of a shared database, or nil after recording a clear issue when it is missing.
    static func path(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let full = "\(directory)/\(name)"
        if access(full, R_OK) != 0 {
            Issue.record("shared test data missing: \(full) (expected ../shared/data/metamath beside the package root)",
                         sourceLocation: sourceLocation)
            return nil
        }
        return full
    }
}

/// A compressed-proof number (1-based) in the letters of the Metamath book's appendix B.
func compressedNumber(_ value: Int) -> String {
    var n = value - 1
    var text = String(UnicodeScalar(UInt8(65 + n % 20)))
    n /= 20
    while n > 0 {
        n -= 1
        text = String(UnicodeScalar(UInt8(85 + n % 5))) + text
        n /= 5
    }
    return text
}

/// Rewrites a normal proof in compressed form (no `Z` reuse): `mandatory` are the theorem's
/// mandatory hypotheses in order; other labels are listed in order of first use.
func compressedProof(_ normal: String, mandatory: [String]) -> String {
    let steps = normal.split(separator: " ").map(String.init)
    var labels: [String] = []
    for step in steps where step != "?" && !mandatory.contains(step) && !labels.contains(step) {
        labels.append(step)
    }
    var codes = ""
    for step in steps {
        if step == "?" {
            codes += "?"
        } else if let index = mandatory.firstIndex(of: step) {
            codes += compressedNumber(index + 1)
        } else {
            codes += compressedNumber(mandatory.count + labels.firstIndex(of: step)! + 1)
        }
    }
    return "( \(labels.joined(separator: " ")) ) \(codes)"
}
