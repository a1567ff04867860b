import Testing
@testable import MetamathKit

/// Input repeated in a message is cut to its first 80 bytes, "…" and its length: a 1 MB token
/// made a 1 MB error line.
@Suite struct EchoTests {
    typealias F = ProofFixtures

    @Test func shortTextIsUnchangedLongTextIsCut() {
        #expect(Echo.text("ax-mp") == "ax-mp")
        let eighty = String(repeating: "a", count: 80)
        #expect(Echo.text(eighty) == eighty)
        #expect(Echo.text(eighty + "b") == eighty + "… (81 bytes)")
        // Not inside a character: "é" is 2 bytes, the 80th byte would split the 40th.
        #expect(Echo.text("a" + String(repeating: "é", count: 50)) == "a" + String(repeating: "é", count: 39) + "… (101 bytes)")
    }

    @Test func aHugeUndeclaredSymbolMakesAShortError() {
        let token = String(repeating: "x", count: 1 << 20)
        guard let error = databaseError(F.base + "bad $a wff \(token) $.\n") else { return }
        #expect(error.message == "math symbol \"\(String(repeating: "x", count: 80))… (1048576 bytes)\" is not declared", "\(error.message.prefix(200))")
    }

    @Test func aHugeLabelMakesAShortError() {
        let label = String(repeating: "l", count: 1 << 20)
        guard let error = databaseError(F.base + "\(label) $a wff p $.\n\(label) $a wff q $.\n") else { return }
        #expect(error.message.hasPrefix("label \"\(String(repeating: "l", count: 80))… (1048576 bytes)\" is already declared at "),
                "\(error.message.prefix(200))")
        #expect(error.message.utf8.count < 300, "\(error.message.prefix(200))")
    }

    @Test func aHugeLabelInAProofMakesAShortFailure() {
        let label = String(repeating: "l", count: 1 << 20)
        guard let result = verify(F.theorem("wff p", "wp \(label)"), "th") else { return }
        guard case .failed(let failure) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.step == 2)
        #expect(failure.label == String(repeating: "l", count: 80) + "… (1048576 bytes)")
        #expect(failure.message == "label \"\(failure.label)\" is not declared")
    }
}
