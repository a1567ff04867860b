// ProofCheck's --image-cache through the real `plugin-host`: a second run (and a resume) of
// the same database reports byte for byte what the first did, and a cache directory others
// can open is refused with one line.
import Foundation
import TestSupport
import Testing

@Suite("ProofCheck --image-cache")
struct ImageCacheCLITests {
    /// The report without its wall time (` in 0.012 s`), which differs between runs.
    private func timeless(_ text: String) -> String {
        text.replacingOccurrences(of: #" in [0-9]+\.[0-9]+ s"#, with: " in T s", options: .regularExpression)
    }

    /// The cache's entry files.
    private func entries(_ cache: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasSuffix(".pcimage") }
    }

    @Test("a database with a failing proof, run twice and resumed through one cache: the same report and status each time")
    func sameReportFromTheCache() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("broken.mm", try MetamathData.exampleReplacing(
            "wph wps wph wi a1i.1 wph wps ax-1 ax-mp $.", with: "wph wps wph wi a1i.1 wps wph ax-1 ax-mp $."))
        let cache = directory.file("cache")
        let arguments = ["-j", "2", "proofcheck", "--image-cache", cache, file]
        let first = try await HostProcess.run(["run", "--journal", directory.file("journal")] + arguments)
        #expect(first.status == 1, "stderr: \(first.stderr)")
        #expect(entries(cache).count == 1)
        let second = try await HostProcess.run(["run"] + arguments)
        #expect(second.status == 1, "stderr: \(second.stderr)")
        #expect(timeless(second.stdout) == timeless(first.stdout))
        // The journal's identity holds the image's digest: the cached image must be the same.
        let resumed = try await HostProcess.run(["run", "--resume", directory.file("journal")] + arguments)
        #expect(resumed.status == 1, "stderr: \(resumed.stderr)")
        #expect(timeless(resumed.stdout) == timeless(first.stdout))
        for entry in entries(cache) { try FileManager.default.removeItem(atPath: cache + "/" + entry) }
    }

    @Test("a cache directory open to others: exit 2, one line naming it")
    func sharedCacheIsRefused() async throws {
        let directory = TemporaryDirectory()
        let cache = directory.file("cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let result = try await HostProcess.run(["run", "proofcheck", "--image-cache", cache, MetamathData.example])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("\(cache): the image cache must be private (mode 700), not mode 755") == true,
                "stderr: \(result.stderr)")
        #expect(entries(cache).isEmpty)
    }
}
