// A database truncated while `plugin-host run proofcheck` reads it: the master mapped the file
// and died of SIGBUS (exit 135, a crash dump). Now it reads the file, and a change during the
// read ends the run with exit 2 and one line naming the file; a change after it leaves the
// verdict on what was read.
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("A database that changes while it is read")
struct ChangingDatabaseTests {
    static let theoremCount = 400_000

    /// `count` trivial theorems (about 9 MB for 400,000).
    static func trivialTheorems(_ count: Int) -> String {
        var text = "$c |- a $.\nax $a |- a $.\n"
        text.reserveCapacity(count * 24)
        for i in 0 ..< count { text += "t\(i) $p |- a $= ax $.\n" }
        return text
    }

    /// The descriptor through which process `pid` has `path` open, if any.
    static func descriptor(of pid: Int32, opening path: String) -> String? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return nil }
        return entries.first { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == path }
    }

    /// The file offset of descriptor `fd` of process `pid` (0 when it is gone).
    static func offset(of pid: Int32, descriptor fd: String) -> Int {
        guard let bytes = ProcessProbe.readFile("/proc/\(pid)/fdinfo/\(fd)") else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("pos:") }) else { return 0 }
        return Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces)) ?? 0
    }

    /// Whether process `pid` has `path` memory-mapped.
    static func maps(_ pid: Int32, _ path: String) -> Bool {
        guard let bytes = ProcessProbe.readFile("/proc/\(pid)/maps") else { return false }
        return String(decoding: bytes, as: UTF8.self).contains(" \(path)\n")
    }

    /// Waits until the master has started reading `path` (its offset moved) or has mapped it,
    /// or has opened and closed it again (read it whole), or has exited.
    static func waitForReading(_ host: HostProcess, _ path: String) {
        var seen = false
        while host.process.isRunning {
            if let fd = descriptor(of: host.pid, opening: path) {
                seen = true
                if offset(of: host.pid, descriptor: fd) > 0 { return }
            } else if seen || maps(host.pid, path) {
                return
            }
            usleep(100)  // polling /proc, not waiting for a race to settle
        }
    }

    @Test("truncated during the parse: exit 2 and one line naming the file, or the verdict on the whole file; never a signal",
          arguments: [false, true])
    func truncatedWhileRead(throughInclude: Bool) async throws {
        let directory = TemporaryDirectory()
        let big = directory.write(throughInclude ? "inc.mm" : "t.mm", Self.trivialTheorems(Self.theoremCount))
        let database = throughInclude ? directory.write("t.mm", "$[ inc.mm $]\n") : big
        let host = try HostProcess(["run", "-j", "2", "--no-progress", "proofcheck", database])
        Self.waitForReading(host, big)
        #expect(truncate(big, 0) == 0)
        let result = await host.result(timeout: 120)
        #expect(!result.signalled, "killed by signal \(result.status): \(result.stderr.prefix(300))")
        if result.status == 0 {
            #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: Self.theoremCount, verified: Self.theoremCount),
                    "stdout: \(result.stdout.suffix(300))")
        } else {
            #expect(result.status == 2, "stderr: \(result.stderr.prefix(300))")
            #expect(result.errorLines.count == 1, "stderr: \(result.stderr.prefix(300))")
            #expect(result.errorLines.first?.hasSuffix("\(big): changed while being read") == true, "stderr: \(result.stderr.prefix(300))")
        }
    }

    @Test("a file in /proc, whose size reads as 0, is parsed for what it holds: exit 2 naming its line 1")
    func procFileIsReadToItsEnd() async throws {
        let result = try await HostProcess.run(["run", "--no-progress", "proofcheck", "/proc/self/status"])
        #expect(result.status == 2, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.errorLines.count == 1 && result.stderr.contains("/proc/self/status:1: "), "stderr: \(result.stderr)")
    }

    @Test("a 1 MB token in the database: a short error line")
    func hugeTokenMakesAShortLine() async throws {
        let directory = TemporaryDirectory()
        let token = String(repeating: "x", count: 1 << 20)
        let database = directory.write("t.mm", "$c |- a $.\nax $a |- \(token) $.\n")
        let result = try await HostProcess.run(["run", "--no-progress", "proofcheck", database])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.utf8.count < 400, "\(result.stderr.prefix(400))")
        #expect(result.stderr.contains("… (1048576 bytes)"), "\(result.stderr.prefix(400))")
    }

    @Test("a 300-byte proof that doubles an expression 40 times: one failure naming the step, a small report")
    func doublingProofFailsAtTheLimit() async throws {
        let directory = TemporaryDirectory()
        var codes = "AABZ"
        let letters = Array("ABCDEFGHIJKLMNOPQRST"), high = Array("UVWXY")
        for k in 1 ... 40 {
            let n = 2 + k
            var code = String(letters[(n - 1) % 20])
            var rest = (n - 1) / 20
            while rest > 0 { code = String(high[(rest - 1) % 5]) + code; rest = (rest - 1) / 5 }
            codes += code + "BZ"
        }
        let database = directory.write("t.mm", """
            $c wff ( ) -> $.
            $v p q $.
            wp $f wff p $.
            wq $f wff q $.
            wi $a wff ( p -> q ) $.
            th $p wff p $= ( wi ) \(codes) $.

            """)
        let result = try await HostProcess.run(["run", "-j", "1", "--no-progress", "proofcheck", database], timeout: 120)
        #expect(result.status == 1, "stderr: \(result.stderr.prefix(300))")
        #expect(result.stdout.contains("theorem th: step 39 (wi): expression at step 39 of th exceeds the limit of 1048576 symbols"),
                "\(result.stdout.prefix(300))")
        #expect(result.stdout.utf8.count < 200_000, "report of \(result.stdout.utf8.count) bytes")
    }
}
