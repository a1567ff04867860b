import Testing
@testable import MetamathKit

/// The real databases in ../shared/data/metamath: every proof verifies.
@Suite struct SharedDatabaseTests {
    @Test(arguments: [("iset.mm", 8573), ("demo0.mm", 1), ("big-unifier.mm", 2), ("miu.mm", 1)])
    func everyProofVerifies(name: String, theoremCount: Int) throws {
        guard let path = SharedData.path(name) else { return }
        let database = try CompiledDatabase.compile(path: path)
        #expect(database.theorems.count == theoremCount)
        let verifier = Verifier(database: database)
        #expect(verifier.theoremCount == theoremCount)
        var failures: [String] = []
        for theorem in database.theorems {
            let result = verifier.verify(theorem: theorem.index)
            if result != .verified && failures.count < 5 { failures.append("\(theorem.label): \(result)") }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func theoremInfoOfIset() throws {
        guard let path = SharedData.path("iset.mm") else { return }
        let database = try CompiledDatabase.compile(path: path)
        let theorem = try #require(database.theorem(labeled: "a1i"))
        #expect(theorem.line == 574)
        #expect(theorem.file == path)
        let verifier = Verifier(database: database)
        let info = verifier.theoremInfo(index: theorem.index)
        #expect(info.label == "a1i")
        #expect(info.line == 574)
        #expect(info.file == path)
        // Theorems come in database order with increasing statement indices.
        #expect(zip(database.theorems, database.theorems.dropFirst()).allSatisfy { $0.index < $1.index })
    }

    /// demo0.mm with step 10 of th1 (`a2`) replaced by `a1`.
    @Test func corruptedNormalProofStep() throws {
        guard let path = SharedData.path("demo0.mm"), let original = readFile(path) else { return }
        let text = String(decoding: original, as: UTF8.self)
        let proof = "tt tze tpl tt weq tt tt weq tt a2 tt"
        #expect(text.contains(proof))
        let corrupted = text.replacingFirst(proof, with: "tt tze tpl tt weq tt tt weq tt a1 tt")
        let database = try compile(corrupted, name: "demo0.mm")
        let theorem = try #require(database.theorem(labeled: "th1"))
        let verifier = Verifier(database: database)
        let result = verifier.verify(theorem: theorem.index)
        let expected = ProofFailure(step: 10, label: "a1",
                                    message: "hypothesis \"tt\" of a1: expected an expression of type \"term\", found \"wff ( t + 0 ) = t\"")
        #expect(result == .failed(expected))
        #expect(verifier.stack(theorem: theorem.index, afterStep: 9)
                == .success(["wff ( t + 0 ) = t", "wff t = t", "term t"]))
    }

    /// iset.mm with one letter of a1i's compressed proof changed: step 8 uses wi instead of ax-1.
    @Test func corruptedCompressedProofStep() throws {
        guard let path = SharedData.path("iset.mm"), let original = readFile(path) else { return }
        let text = String(decoding: original, as: UTF8.self)
        let proof = "( wi ax-1 ax-mp ) ABADCABEF $."
        #expect(text.contains(proof))
        let corrupted = text.replacingFirst(proof, with: "( wi ax-1 ax-mp ) ABADCABDF $.")
        let database = try compile(corrupted, name: "iset.mm")
        let verifier = Verifier(database: database)
        let theorem = try #require(database.theorem(labeled: "a1i"))
        let expected = ProofFailure(step: 9, label: "ax-mp",
                                    message: "hypothesis \"maj\" of ax-mp: expected \"|- ( ph -> ( ps -> ph ) )\", found \"wff ( ph -> ps )\"")
        #expect(verifier.verify(theorem: theorem.index) == .failed(expected))
        #expect(verifier.stack(theorem: theorem.index, afterStep: 8)
                == .success(["wff ph", "wff ( ps -> ph )", "|- ph", "wff ( ph -> ps )"]))
        // Theorems that use a1i still verify: only its own proof is wrong.
        let user = try #require(database.theorems.first { $0.index > theorem.index && $0.label == "a1d" })
        #expect(verifier.verify(theorem: user.index) == .verified)
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced (tests only).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8), pattern = Array(target.utf8)
        guard pattern.count <= bytes.count else { return self }
        for start in 0 ... bytes.count - pattern.count where bytes[start ..< start + pattern.count].elementsEqual(pattern) {
            return String(decoding: bytes[..<start] + Array(replacement.utf8) + bytes[(start + pattern.count)...], as: UTF8.self)
        }
        return self
    }
}
