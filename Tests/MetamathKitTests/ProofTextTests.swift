import Testing
@testable import MetamathKit

/// The master only delimits proofs (workers tokenize them): the byte scan for `$.` must keep
/// the token rules, line numbers and structural errors of reading token by token.
@Suite struct ProofTextTests {
    typealias F = ProofFixtures

    @Test func commentInsideProofInBothFormats() {
        #expect(verify(F.a1i("wp wq wp $( a\n comment $) wi a1i.1 wp wq ax-1 ax-mp"), "a1i") == .verified)
        #expect(verify(F.a1i("( wi ax-1 $( labels $) ax-mp ) ABAD $( codes $) CABEF"), "a1i") == .verified)
    }

    @Test func includeInsideProofIsExpanded() throws {
        let directory = TemporaryDirectory()
        directory.write("steps.mm", "wp wi a1i.1\n")
        let main = directory.write("main.mm", F.a1i("wp wq $[ steps.mm $] wp wq ax-1 ax-mp"))
        let database = try CompiledDatabase.compile(path: main)
        let theorem = try #require(database.theorem(labeled: "a1i"))
        #expect(Verifier(database: database).verify(theorem: theorem.index) == .verified)
    }

    @Test func dollarInsideALabelIsALabel() {
        expectProofFailure(F.a1i("wp wq wp w$i a1i.1 wp wq ax-1 ax-mp"), theorem: "a1i", step: 4, label: "w$i",
                           "label \"w$i\" is not declared")
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) AB$DCABEF"), theorem: "a1i", step: 3, label: "",
                           "invalid character \"$\" in the compressed proof")
    }

    @Test func keywordInsideProofKeepsItsLine() {
        let text = F.a1i("wp wq\nwp wi\n\n$c ax-1 ax-mp")
        // The prelude is 21 lines, "${" and "a1i.1" follow: the proof starts on line 24.
        guard let error = databaseError(text) else { return }
        #expect(error.line == 27, "\(error)")
        #expect(error.message == "expected \"$.\" to end the proof of \"a1i\", found \"$c\"", "\(error)")
        guard let dotted = databaseError(F.a1i("( wi ax-1 ) AB $.x")) else { return }
        #expect(dotted.message.contains("found \"$.x\""), "\(dotted)")
    }

    @Test func badByteInsideProofKeepsItsLine() {
        guard let error = databaseError(F.a1i("wp wq\nwp wi\u{01} a1i.1")) else { return }
        #expect(error.line == 25, "\(error)")
        #expect(error.message.contains("byte 0x1 is not printable ASCII"), "\(error)")
    }

    @Test func linesAfterAProofAreCounted() {
        let text = F.a1i("( wi ax-1 ax-mp )\nABADC\nABEF", after: "\n\n$x\n")
        guard let error = databaseError(text) else { return }
        #expect(error.line == 30, "\(error)")
    }

    @Test func proofRunningIntoTheEndOfAnIncludedFile() throws {
        let directory = TemporaryDirectory()
        directory.write("rest.mm", "ax-mp $.\n")
        let main = directory.write("main.mm", F.base + "${\na1i.1 $e |- p $.\na1i $p |- ( q -> p ) $= wp wq wp wi a1i.1 wp wq ax-1\n$[ rest.mm $]\n$}\n")
        let database = try CompiledDatabase.compile(path: main)
        #expect(Verifier(database: database).verify(theorem: database.theorems[0].index) == .verified)
        let unterminated = directory.write("bad.mm", F.base + "${\na1i.1 $e |- p $.\na1i $p |- ( q -> p ) $= wp wq\n")
        do {
            _ = try CompiledDatabase.compile(path: unterminated)
            Issue.record("an unterminated proof compiled")
        } catch {
            #expect(error.line == 24, "\(error)")
            #expect(error.message.contains("the proof of \"a1i\" is not terminated by \"$.\""), "\(error)")
        }
    }

    @Test func hypothesisOfAnEnclosingBlockIsActive() {
        let text = F.base + """
            ${
              h1 $e |- p $.
              ${
                h2 $e |- q $.
                th $p |- p $= h1 $.
              $}
              th2 $p |- p $= h1 $.
              th3 $p |- q $= h2 $.
            $}
            """
        #expect(verify(text, "th") == .verified)
        #expect(verify(text, "th2") == .verified)
        expectProofFailure(text, theorem: "th3", step: 1, label: "h2", "hypothesis \"h2\" is not active")
    }
}
