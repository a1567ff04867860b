// The ProofCheck plugin through the real `plugin-host`: Metamath databases verified by worker
// processes, errors with their repaired proof state, exit statuses, JSON, the fallback into the
// master when no worker can start, and the shared real databases with their exact proof counts.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `N proofs: V verified, F failed, I incomplete` from a summary line.
struct ProofCounts: Equatable {
    var proofs: Int, verified: Int, failed: Int, incomplete: Int

    init(proofs: Int, verified: Int, failed: Int = 0, incomplete: Int = 0) {
        (self.proofs, self.verified, self.failed, self.incomplete) = (proofs, verified, failed, incomplete)
    }

    init?(summary text: String) {
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("proofcheck: ") }) else { return nil }
        func number(before word: String) -> Int? {
            guard let range = line.range(of: " \(word)") else { return nil }
            let digits = line[..<range.lowerBound].reversed().prefix { $0.isNumber }
            return Int(String(digits.reversed()))
        }
        guard let proofs = number(before: "proof"), let verified = number(before: "verified"),
              let failed = number(before: "failed"), let incomplete = number(before: "incomplete") else { return nil }
        self.init(proofs: proofs, verified: verified, failed: failed, incomplete: incomplete)
    }
}

@Suite("ProofCheck plugin")
struct ProofCheckTests {
    @Test("the bundled example verifies: exit 0, every proof counted")
    func exampleVerifies() async throws {
        let result = try await HostProcess.run(["run", "-j", "2", "proofcheck", MetamathData.example])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8, verified: 8), "stdout: \(result.stdout)")
    }

    @Test("the shared databases verify with their exact proof counts", arguments: [
        ("demo0.mm", 1), ("miu.mm", 1), ("big-unifier.mm", 2),
    ])
    func sharedDatabases(name: String, proofs: Int) async throws {
        let result = try await HostProcess.run(["run", "-j", "2", "proofcheck", MetamathData.shared(name)])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: proofs, verified: proofs), "stdout: \(result.stdout)")
    }

    @Test("iset.mm verifies through the host with 2 workers: 8,573 proofs")
    func isetVerifies() async throws {
        let result = try await HostProcess.run(["run", "-j", "2", "proofcheck", MetamathData.shared("iset.mm")])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8573, verified: 8573), "stdout: \(result.stdout)")
    }

    @Test("one corrupted step in a copy of iset.mm: exactly that theorem fails, at that step, with its state")
    func corruptedIset() async throws {
        let directory = TemporaryDirectory()
        let original = try String(contentsOfFile: MetamathData.shared("iset.mm"), encoding: .utf8)
        // a1i: `( wi ax-1 ax-mp ) ABADCABEF`; swapping ph and ps at steps 6-7 makes ax-1 prove
        // ( ps -> ( ph -> ps ) ), which ax-mp's major premise (step 9) does not accept.
        let proof = "      ( wi ax-1 ax-mp ) ABADCABEF $."
        #expect(original.components(separatedBy: proof).count == 2)
        let file = directory.write("iset.mm", original.replacingOccurrences(of: proof, with: "      ( wi ax-1 ax-mp ) ABADCBAEF $."))
        let result = try await HostProcess.run(["run", "-j", "2", "proofcheck", file])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let line = MetamathData.line(of: "    a1i $p |- ( ps -> ph ) $=", in: original)
        #expect(line == 574)
        #expect(lines.first?.hasPrefix("\(file):\(line): theorem a1i: step 9 (ax-mp): ") == true, "stdout: \(result.stdout)")
        #expect(Array(lines.dropFirst().prefix(5)) == [
            "  proof stack before step 9:",
            "    1  wff ph", "    2  wff ( ps -> ph )", "    3  |- ph", "    4  |- ( ps -> ( ph -> ps ) )",
        ], "stdout: \(result.stdout)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8573, verified: 8572, failed: 1))
    }

    @Test("a wrong step in a normal proof: FILE:LINE, theorem, step, label, and the stack before it")
    func normalProofError() async throws {
        let directory = TemporaryDirectory()
        let text = try MetamathData.exampleReplacing("wph wps wph wi a1i.1 wph wps ax-1 ax-mp $.",
                                                      with: "wph wps wph wi a1i.1 wps wph ax-1 ax-mp $.")
        let file = directory.write("broken.mm", text)
        let result = try await HostProcess.run(["run", "-j", "2", "proofcheck", file])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let line = MetamathData.line(of: "a1i $p", in: text)
        let error = try #require(lines.first { $0.hasPrefix("\(file):\(line): theorem a1i: step 9 (ax-mp): ") },
                                 "stdout: \(result.stdout)")
        #expect(error.contains("|- ( ps -> ( ph -> ps ) )"), "the message shows what was found: \(error)")
        let stack = try #require(lines.firstIndex { $0.contains("proof stack before step 9") })
        #expect(Array(lines[(stack + 1)...].prefix(4)) == [
            "    1  wff ph", "    2  wff ( ps -> ph )", "    3  |- ph", "    4  |- ( ps -> ( ph -> ps ) )",
        ])
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8, verified: 7, failed: 1))
    }

    @Test("a wrong step in a compressed proof is reported at its decoded step, with the stack")
    func compressedProofError() async throws {
        let directory = TemporaryDirectory()
        let text = try MetamathData.exampleReplacing("ABCEEABEACEEDABCFG", with: "ABCEEABEACEEDACBFG")
        let file = directory.write("broken.mm", text)
        let result = try await HostProcess.run(["run", "-j", "1", "proofcheck", file])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let line = MetamathData.line(of: "a2i $p", in: text)
        #expect(lines.contains { $0.hasPrefix("\(file):\(line): theorem a2i: step 18 (ax-mp): ") }, "stdout: \(result.stdout)")
        let stack = try #require(lines.firstIndex { $0.contains("proof stack before step 18") })
        #expect(Array(lines[(stack + 1)...].prefix(4)) == [
            "    1  wff ( ph -> ( ps -> ch ) )", "    2  wff ( ( ph -> ps ) -> ( ph -> ch ) )",
            "    3  |- ( ph -> ( ps -> ch ) )", "    4  |- ( ( ph -> ( ch -> ps ) ) -> ( ( ph -> ch ) -> ( ph -> ps ) ) )",
        ])
    }

    @Test("the proof state is computed by the worker that found the failure (stay + follow-up)")
    func repairStaysOnTheSameWorker() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("broken.mm", try MetamathData.exampleReplacing("ABCEEABEACEEDABCFG", with: "ABCEEABEACEEDACBFG"))
        let events = directory.file("events.jsonl")
        let result = try await HostProcess.run(["run", "-j", "2", "--events", events, "proofcheck", "--theorem", "a2i", file])
        #expect(result.status == 1)
        let objects = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        let starts = objects.filter { $0["event"] as? String == "task-started" }
        #expect(starts.count == 2, "one batch, one state task: \(starts)")
        #expect(Set(starts.compactMap { $0["worker"] as? String }).count == 1, "both ran on one worker: \(starts)")
        let spawned = objects.filter { $0["event"] as? String == "worker-started" }
        #expect(spawned.count == 1, "the one-shot worker stayed for the state task instead of a fresh one: \(spawned)")
    }

    @Test("an incomplete proof (? steps) is a warning: exit 0, or 1 with --strict")
    func incompleteProof() async throws {
        let directory = TemporaryDirectory()
        let text = try MetamathData.exampleReplacing("wph wps wph wi a1i.1 wph wps ax-1 ax-mp $.",
                                                      with: "wph wps wph wi a1i.1 ? ax-mp $.")
        let file = directory.write("incomplete.mm", text)
        let result = try await HostProcess.run(["run", "proofcheck", file])
        #expect(result.status == 0, "stdout: \(result.stdout) stderr: \(result.stderr)")
        let line = MetamathData.line(of: "a1i $p", in: text)
        #expect(result.stdout.contains("\(file):\(line): warning: theorem a1i: proof incomplete (1 unknown step)"), "stdout: \(result.stdout)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8, verified: 7, incomplete: 1))
        let strict = try await HostProcess.run(["run", "proofcheck", "--strict", file])
        #expect(strict.status == 1)
    }

    @Test("--theorem LABEL verifies that theorem only; an unknown label is a usage error")
    func oneTheorem() async throws {
        let result = try await HostProcess.run(["run", "proofcheck", "--theorem", "syl", MetamathData.example])
        #expect(result.status == 0)
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 1, verified: 1), "stdout: \(result.stdout)")
        let unknown = try await HostProcess.run(["run", "proofcheck", "--theorem", "nope", MetamathData.example])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no theorem ($p) labelled nope"), "stderr: \(unknown.stderr)")
    }

    @Test("--json prints one object with the counts, the errors and the repaired stack")
    func jsonReport() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("broken.mm", try MetamathData.exampleReplacing(
            "wph wps wph wi a1i.1 wph wps ax-1 ax-mp $.", with: "wph wps wph wi a1i.1 wps wph ax-1 ax-mp $."))
        let result = try await HostProcess.run(["run", "proofcheck", "--json", file])
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["proofs"] as? Int == 8)
        #expect(object["verified"] as? Int == 7)
        #expect(object["failed"] as? Int == 1)
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors.first?["theorem"] as? String == "a1i")
        #expect(errors.first?["step"] as? Int == 9)
        #expect(errors.first?["label"] as? String == "ax-mp")
        #expect((errors.first?["stack"] as? [String])?.count == 4)
    }

    @Test("a database that cannot be parsed: exit 2, one line naming FILE:LINE and the cause", arguments: [
        ("non-ASCII", "  $( caf\u{E9} $)\n"),
        ("missing include", "  $[ no-such-file.mm $]\n"),
        ("unterminated statement", "  tru $a |- ( ph -> ph )\n"),
    ])
    func unparsable(what: String, appended: String) async throws {
        let directory = TemporaryDirectory()
        let text = try String(contentsOfFile: MetamathData.example, encoding: .utf8)
        let file = directory.write("bad.mm", text + appended)
        let result = try await HostProcess.run(["run", "proofcheck", file])
        #expect(result.status == 2, "\(what): stdout \(result.stdout) stderr \(result.stderr)")
        #expect(result.errorLines.count == 1, "\(what): stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(file):"), "\(what): names the file: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(what): \(result.stderr)")
    }

    @Test("no worker can start: the master verifies the proofs itself, with a warning")
    func fallbackToMaster() async throws {
        // /bin/false starts but never says hello: every spawn fails its handshake.
        let result = try await HostProcess.run(["run", "-j", "2", "--worker", "/bin/false", "proofcheck", MetamathData.example])
        #expect(result.status == 0, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8, verified: 8))
        #expect(result.stdout.contains("8 checked in the master"), "stdout: \(result.stdout)")
        #expect(result.stderr.contains("in the master"), "a warning says so: \(result.stderr)")
    }

    @Test("workers that never get their requests: batches split down to single theorems, each reported lost, exit 1")
    func everyWorkerExpires() async throws {
        let directory = TemporaryDirectory()
        // The worker starts and says hello, but its standard input is a pipe nothing is written
        // to (one launch per worker: the launcher stands between master and worker): no request reaches it, so every attempt runs past --timeout.
        let deaf = directory.write("deaf-launcher", """
            #!/bin/sh
            sleep 10 | "$@"
            """)
        let result = try await HostProcess.run(["run", "-j", "2", "--timeout", "0.2", "--retries", "0",
                                                "--no-agent", "--launcher", "\(deaf) \(TestPaths.pluginWorker)",
                                                "proofcheck", MetamathData.example])
        #expect(result.status == 1, "stdout: \(result.stdout) stderr: \(result.stderr)")
        let text = try String(contentsOfFile: MetamathData.example, encoding: .utf8)
        for label in ["id", "idc", "a1i", "a2i", "syl", "imim2i", "syl3", "idsyl"] {
            let line = MetamathData.line(of: "\(label) $p", in: text)
            #expect(result.stdout.contains("\(MetamathData.example):\(line): theorem \(label): not verified: expired"),
                    "\(label): stdout: \(result.stdout)")
        }
        #expect(result.stdout.contains("8 proofs: 0 verified, 0 failed, 0 incomplete, 8 lost"), "stdout: \(result.stdout)")
        let json = try await HostProcess.run(["run", "-j", "2", "--timeout", "0.2", "--retries", "0",
                                              "--no-agent", "--launcher", "\(deaf) \(TestPaths.pluginWorker)",
                                              "proofcheck", "--json", MetamathData.example])
        #expect(json.stdout.contains("\"verified\":0,\"failed\":0,\"incomplete\":0,\"lost\":8,\"not_checked\":0"), "\(json.stdout)")
    }

    /// A launcher whose channel rewrites the worker's batch answers on their way to the master,
    /// as a buggy or damaged worker might send them. The answer to a batch with one failed proof
    /// is `0 | verified count (i32) | problem count (varint) | problem`; `duplicate` names the
    /// failed theorem twice and counts one fewer verified (the counts still add up), `stranger`
    /// names a statement that is not in the database, `state` answers with an (empty) proof
    /// state instead.
    static func lyingWorkerLauncher(in directory: TemporaryDirectory, mode: String) -> String {
        let proxy = directory.write("lie.py", """
            import struct, subprocess, sys
            mode = sys.argv[1]
            child = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE)
            source, sink = child.stdout, sys.stdout.buffer
            def read(n):
                data = source.read(n)
                return data if data is not None and len(data) == n else None
            while True:
                header = read(16)
                if header is None:
                    break
                length, kind = struct.unpack_from("<IB", header)
                payload = read(length) if length else b""
                if payload is None:
                    break
                if kind == 3 and len(payload) > 6 and payload[0] == 0 and payload[5] == 1:
                    verified, problem = struct.unpack_from("<i", payload, 1)[0], payload[6:]
                    if mode == "duplicate" and verified > 0:
                        payload = bytes([0]) + struct.pack("<i", verified - 1) + bytes([2]) + problem + problem
                    elif mode == "stranger":
                        payload = payload[:6] + struct.pack("<i", 0x7fffffff) + problem[4:]
                    elif mode == "state":
                        payload = bytes([1, 0])
                    header = struct.pack("<I", len(payload)) + header[4:]
                sink.write(header + payload)
                sink.flush()
            sys.exit(child.wait())
            """)
        return directory.write("lying-launcher", """
            #!/bin/sh
            exec python3 '\(proxy)' \(mode) "$@"
            """)
    }

    @Test("a worker's answer that does not fit its batch is not believed: the master checks the batch itself",
          arguments: ["duplicate", "stranger", "state"])
    func answerNotFittingTheBatch(mode: String) async throws {
        let directory = TemporaryDirectory()
        let text = try MetamathData.exampleReplacing("ABCEEABEACEEDABCFG", with: "ABCEEABEACEEDACBFG")
        let file = directory.write("broken.mm", text)
        let launcher = Self.lyingWorkerLauncher(in: directory, mode: mode)
        // One worker, one batch holding all 8 theorems; a2i's proof is wrong.
        let result = try await HostProcess.run(["run", "-j", "1", "--no-agent", "--launcher", "\(launcher) \(TestPaths.pluginWorker)",
                                                "proofcheck", "--batches-per-worker", "1", file])
        #expect(result.status == 1, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.stderr.contains("in the master: the worker's answer d"), "a warning says why: \(result.stderr)")
        #expect(result.stdout.contains("8 checked in the master"), "stdout: \(result.stdout)")
        #expect(ProofCounts(summary: result.stdout) == ProofCounts(proofs: 8, verified: 7, failed: 1), "stdout: \(result.stdout)")
        let line = MetamathData.line(of: "a2i $p", in: text)
        #expect(result.stdout.contains("\(file):\(line): theorem a2i: step"), "the master's verdict on a2i: \(result.stdout)")
        #expect(result.stdout.contains("proof stack before step"), "with its repaired state: \(result.stdout)")
    }

    @Test("kill -9 of a worker in the middle of its batch: the batch is checked in two halves and every proof verifies",
          arguments: [0, 1])
    func workerKilledMidBatch(retries: Int) async throws {
        let library = try PluginLibrary(path: TestPaths.binDirectory + "/libProofCheck.so")
        let test = TestRun(.test(jobs: 1, retries: retries))
        // One batch holding all of iset.mm: its worker is killed as soon as it starts.
        try test.run.addKind(library, arguments: ["--batches-per-worker", "1", MetamathData.shared("iset.mm")])
        let (report, killed) = try await test.startAndFinish(killingWorkerOf: 1, attempt: 1)
        let log = test.log
        // The lost batch ends at once, split (with or without retries left): its halves are
        // tasks 2 and 3, queued ahead of anything else, run on fresh workers.
        let result = try report.result(1)
        #expect(result.outcome == .done)
        #expect(result.attempts == 1)
        #expect(try report.result(2).outcome == .done && report.result(3).outcome == .done)
        #expect(report.counts.total == 3 && report.counts.done == 3, "counts: \(report.counts)")
        #expect(!log.workers(of: 2).contains(killed.name))
        let warnings = log.kinds.compactMap { kind -> String? in
            if case .log(_, _, let message) = kind { return message } else { return nil }
        }
        #expect(warnings.contains { $0.contains("worker lost (worker died)") && $0.contains("checking it in two halves") },
                "warnings: \(warnings)")
        let text = try #require(report.pluginReports.first?.text)
        #expect(ProofCounts(summary: text) == ProofCounts(proofs: 8573, verified: 8573), "report: \(text)")
    }

    @Test("a /dev/shm too small for the image: the image goes to /tmp and the run succeeds",
          .enabled(if: getuid() == 0, "needs root for a private mount namespace"))
    func smallSharedMemory() async throws {
        // A private mount namespace with a 1 MiB /dev/shm; iset.mm's image is about 5 MB.
        let script = "mount -t tmpfs -o size=1m tmpfs /dev/shm && exec '\(TestPaths.pluginHost)' run --no-progress proofcheck '\(MetamathData.shared("iset.mm"))'"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-m", "sh", "-c", script]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "stdout: \(text)")
        #expect(ProofCounts(summary: text) == ProofCounts(proofs: 8573, verified: 8573), "stdout: \(text)")
    }

    @Test("--persistent keeps workers: far fewer workers than batches")
    func persistentWorkers() async throws {
        let oneShot = try await HostProcess.run(["run", "-j", "2", "proofcheck", "--batches-per-worker", "4", MetamathData.example])
        let persistent = try await HostProcess.run(["run", "-j", "2", "proofcheck", "--persistent", "--batches-per-worker", "4", MetamathData.example])
        #expect(oneShot.status == 0 && persistent.status == 0)
        func started(_ result: CLIResult) -> Int? {
            // ("1 worker started" when one persistent worker took every batch, as on a loaded machine.)
            guard let range = result.stderr.range(of: " workers started") ?? result.stderr.range(of: " worker started") else { return nil }
            return Int(String(result.stderr[..<range.lowerBound].reversed().prefix { $0.isNumber }.reversed()))
        }
        let oneShotWorkers = try #require(started(oneShot), "stderr: \(oneShot.stderr)")
        let persistentWorkers = try #require(started(persistent), "stderr: \(persistent.stderr)")
        #expect(persistentWorkers <= 2)
        #expect(oneShotWorkers >= 4 && oneShotWorkers > persistentWorkers, "a fresh worker per batch: \(oneShot.stderr)")
    }
}
