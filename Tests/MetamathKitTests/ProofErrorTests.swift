import Testing
@testable import MetamathKit

/// Per-proof rules, each in normal and compressed format.
@Suite struct ProofErrorTests {
    typealias F = ProofFixtures

    @Test func correctProofsVerifyInBothFormats() {
        #expect(verify(F.a1i(F.a1iProof), "a1i") == .verified)
        #expect(verify(F.a1i(compressedProof(F.a1iProof, mandatory: F.a1iMandatory)), "a1i") == .verified)
        #expect(compressedProof(F.a1iProof, mandatory: F.a1iMandatory) == "( wi ax-1 ax-mp ) ABADCABEF")
    }

    @Test func compressedProofWithSavedSubproofVerifies() {
        // ax-1 with p := ( p -> p ), q := ( p -> p ); "( p -> p )" is built once and reused (Z, D).
        let text = F.theorem("|- ( ( p -> p ) -> ( ( p -> p ) -> ( p -> p ) ) )", "( wi ax-1 ) AABZDC")
        #expect(verify(text, "th") == .verified)
        let normal = F.theorem("|- ( ( p -> p ) -> ( ( p -> p ) -> ( p -> p ) ) )", "wp wp wi wp wp wi ax-1")
        #expect(verify(normal, "th") == .verified)
    }

    // MARK: Labels

    @Test func unknownLabel() {
        let proof = "wp wq wp wi a1i.1 wpx wq ax-1 ax-mp"
        expectProofFailure(F.a1i(proof), theorem: "a1i", step: 6, label: "wpx", "label \"wpx\" is not declared")
        // In a compressed proof the label list is checked before any step runs: step 0.
        expectProofFailure(F.a1i("( wi wpx ax-1 ax-mp ) ABADCABEF"), theorem: "a1i", step: 0, label: "wpx",
                           "label \"wpx\" is not declared")
    }

    @Test func mathSymbolIsNotALabel() {
        expectProofFailure(F.a1i("wp wq wff wi a1i.1 wp wq ax-1 ax-mp"), theorem: "a1i", step: 3, label: "wff",
                           "label \"wff\" is not declared")
    }

    @Test func inactiveHypothesis() {
        // min belongs to the block of ax-mp, which has ended.
        expectProofFailure(F.theorem("|- p", "min"), theorem: "th", step: 1, label: "min", "hypothesis \"min\" is not active")
        expectProofFailure(F.theorem("|- p", "( min ) A"), theorem: "th", step: 0, label: "min", "hypothesis \"min\" is not active")
    }

    @Test func laterDeclaredLabel() {
        let later = "later $a |- ( p -> p ) $."
        expectProofFailure(F.theorem("|- ( p -> p )", "wp later", after: later), theorem: "th", step: 2, label: "later",
                           "label \"later\" is declared later (")
        expectProofFailure(F.theorem("|- ( p -> p )", "( later ) AB", after: later), theorem: "th", step: 0, label: "later",
                           "is declared later")
    }

    @Test func theoremMayNotUseItself() {
        expectProofFailure(F.theorem("|- ( p -> ( q -> p ) )", "wp wq th"), theorem: "th", step: 3, label: "th",
                           "a theorem may not use itself")
        expectProofFailure(F.theorem("|- ( p -> ( q -> p ) )", "( th ) ABC"), theorem: "th", step: 0, label: "th",
                           "a theorem may not use itself")
    }

    @Test func mandatoryHypothesisInCompressedLabelList() {
        expectProofFailure(F.a1i("( wp wi ax-1 ax-mp ) ABADCABEF"), theorem: "a1i", step: 0, label: "wp",
                           "\"wp\" is a mandatory hypothesis of \"a1i\"")
    }

    @Test func optionalFloatingHypothesisMayBeListed() {
        // z is not in the statement: vz is an optional (dummy) hypothesis, allowed in the list.
        let text = F.theorem("|- ( p -> ( q -> p ) )", "( vz ax-1 ) ABD", after: "")
        #expect(verify(text, "th") == .verified)
    }

    // MARK: Stack and substitution

    @Test func stackUnderflow() {
        expectProofFailure(F.a1i("wp ax-mp"), theorem: "a1i", step: 2, label: "ax-mp",
                           "ax-mp needs 4 hypotheses, but the stack holds 1 entry")
        expectProofFailure(F.a1i("( ax-mp ) AD"), theorem: "a1i", step: 2, label: "ax-mp",
                           "ax-mp needs 4 hypotheses, but the stack holds 1 entry")
    }

    @Test func typecodeMismatch() {
        // wi's first hypothesis wp wants a wff; vx pushes "set x".
        let proof = "vx wq wi"
        expectProofFailure(F.theorem("wff ( x -> q )", proof), theorem: "th", step: 3, label: "wi",
                           "hypothesis \"wp\" of wi: expected an expression of type \"wff\", found \"set x\"")
        expectProofFailure(F.theorem("wff ( x -> q )", compressedProof(proof, mandatory: ["wq", "vx"])), theorem: "th",
                           step: 3, label: "wi", "hypothesis \"wp\" of wi: expected an expression of type \"wff\"")
    }

    @Test func emptySubstitutionIsAllowed() {
        // h is the typecode alone: wi's p and q become empty. No $a of the base is a typecode
        // alone; metamath-exe's verifier (and the book) accept empty substitutions anyway.
        let text = F.base + "${\n  h $e wff $.\n  th $p wff ( -> ) $= h h wi $.\n$}\n"
        #expect(verify(text, "th") == .verified)
        let compressed = F.base + "${\n  h $e wff $.\n  th $p wff ( -> ) $= ( wi ) AAB $.\n$}\n"
        #expect(verify(compressed, "th") == .verified)
    }

    @Test func essentialHypothesisMismatch() {
        let proof = "wp wq wp wi a1i.1 wq wp ax-1 ax-mp"
        let message = "hypothesis \"maj\" of ax-mp: expected \"|- ( p -> ( q -> p ) )\", found \"|- ( q -> ( p -> q ) )\""
        expectProofFailure(F.a1i(proof), theorem: "a1i", step: 9, label: "ax-mp", message)
        expectProofFailure(F.a1i(compressedProof(proof, mandatory: F.a1iMandatory)), theorem: "a1i", step: 9,
                           label: "ax-mp", message)
    }

    @Test func minorHypothesisMismatch() {
        let proof = "wp wq wp wi wq wq wp ax-1 ax-mp"
        // Step 5 pushes "wff q" where min wants "|- p".
        expectProofFailure(F.a1i(proof), theorem: "a1i", step: 9, label: "ax-mp",
                           "hypothesis \"min\" of ax-mp: expected \"|- p\", found \"wff q\"")
    }

    // MARK: Disjoint variables

    static let disjointStatement = "|- ( x = x -> A. y x = x )"
    static let disjointProof = "vx vx weq vy ax-17"

    @Test func disjointVariablesSatisfied() {
        let text = F.theorem(Self.disjointStatement, Self.disjointProof, disjoint: "$d x y $.")
        #expect(verify(text, "th") == .verified)
        let compressed = F.theorem(Self.disjointStatement, compressedProof(Self.disjointProof, mandatory: ["vx", "vy"]),
                                   disjoint: "$d x y $.")
        #expect(verify(compressed, "th") == .verified)
    }

    @Test func disjointVariableMissing() {
        let message = "$d p x of ax-17 requires $d x y, which is not active for \"th\""
        expectProofFailure(F.theorem(Self.disjointStatement, Self.disjointProof), theorem: "th", step: 5,
                           label: "ax-17", message)
        expectProofFailure(F.theorem(Self.disjointStatement, compressedProof(Self.disjointProof, mandatory: ["vx", "vy"])),
                           theorem: "th", step: 5, label: "ax-17", message)
    }

    @Test func disjointVariablesTheSame() {
        let statement = "|- ( x = x -> A. x x = x )"
        let proof = "vx vx weq vx ax-17"
        let message = "$d p x of ax-17 is violated: both are substituted with expressions containing the variable \"x\""
        expectProofFailure(F.theorem(statement, proof), theorem: "th", step: 5, label: "ax-17", message)
        expectProofFailure(F.theorem(statement, compressedProof(proof, mandatory: ["vx"])), theorem: "th", step: 5,
                           label: "ax-17", message)
    }

    @Test func disjointFromEnclosingScopeCounts() {
        let text = F.base + """
            $d x y $.
            ${
              th $p \(Self.disjointStatement) $= \(Self.disjointProof) $.
            $}
            """
        #expect(verify(text, "th") == .verified)
    }

    // MARK: End of proof

    @Test func finalStackHasTwoEntries() {
        expectProofFailure(F.a1i("wp wq"), theorem: "a1i", step: 3, label: "",
                           "the proof leaves 2 entries on the stack, expected 1")
        expectProofFailure(F.a1i("( ) AB"), theorem: "a1i", step: 3, label: "",
                           "the proof leaves 2 entries on the stack, expected 1")
    }

    @Test func emptyProof() {
        expectProofFailure(F.a1i(""), theorem: "a1i", step: 1, label: "", "the proof is empty")
        expectProofFailure(F.a1i("( )"), theorem: "a1i", step: 1, label: "", "the proof is empty")
    }

    @Test func wrongFinalStatement() {
        let message = "the proof proves \"|- ( q -> p )\", but the statement is \"|- ( q -> q )\""
        expectProofFailure(F.a1i(F.a1iProof, statement: "|- ( q -> q )"), theorem: "a1i", step: 10, label: "", message)
        // With statement "|- ( q -> q )" p occurs only in a1i.1: the mandatory list is still wp wq a1i.1.
        let compressed = compressedProof(F.a1iProof, mandatory: F.a1iMandatory)
        expectProofFailure(F.a1i(compressed, statement: "|- ( q -> q )"), theorem: "a1i", step: 10, label: "", message)
    }

    // MARK: Unknown steps

    @Test func unknownStepMakesProofIncomplete() {
        let proof = "wp wq wp wi ? wp wq ax-1 ax-mp"
        #expect(verify(F.a1i(proof), "a1i") == .incomplete(unknownSteps: 1))
        #expect(verify(F.a1i(compressedProof(proof, mandatory: F.a1iMandatory)), "a1i") == .incomplete(unknownSteps: 1))
        #expect(verify(F.a1i("?"), "a1i") == .incomplete(unknownSteps: 1))
        #expect(verify(F.a1i("( ) ?"), "a1i") == .incomplete(unknownSteps: 1))
    }

    @Test func unknownStepDoesNotHideOtherErrors() {
        // Two entries remain: a failure, not an incomplete proof.
        expectProofFailure(F.a1i("wp ?"), theorem: "a1i", step: 3, label: "", "leaves 2 entries")
        expectProofFailure(F.a1i("( ) A?"), theorem: "a1i", step: 3, label: "", "leaves 2 entries")
        // An error before the unknown step is still an error.
        expectProofFailure(F.a1i("vx wq wi ?"), theorem: "a1i", step: 3, label: "wi", "expected an expression of type \"wff\"")
    }

    @Test func unknownEssentialHypothesisStillGivesAResult() {
        // Step 13 (ax-mp) has an unknown minor premise (step 9) but known $f's: as in
        // metamath-exe its result "|- ( q -> p )" is computed, and step 15 then fails on it.
        let proof = "wq wp wi wr wp wq wp wi ? wp wq ax-1 ax-mp a1i.1 ax-mp"
        let message = "hypothesis \"maj\" of ax-mp: expected \"|- ( ( q -> p ) -> r )\", found \"|- p\""
        expectProofFailure(F.a1i(proof, statement: "|- r"), theorem: "a1i", step: 15, label: "ax-mp", message)
        let compressed = compressedProof(proof, mandatory: ["wp", "wr", "a1i.1"])
        expectProofFailure(F.a1i(compressed, statement: "|- r"), theorem: "a1i", step: 15, label: "ax-mp", message)
    }

    @Test func unknownFloatingHypothesisGivesAnUnknownResult() {
        // wi with an unknown first argument is unknown; ax-mp then cannot check maj.
        let proof = "wp wq ? wi a1i.1 wp wq ax-1 ax-mp"
        #expect(verify(F.a1i(proof), "a1i") == .incomplete(unknownSteps: 1))
    }

    // MARK: Compressed proof encoding

    @Test func invalidCharacterInCompressedProof() {
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) ABAbCABEF"), theorem: "a1i", step: 4, label: "",
                           "invalid character \"b\" in the compressed proof")
    }

    @Test func compressedNumberOutOfRange() {
        // 3 mandatory + 3 labels: G (7) is out of range at step 3.
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) ABGDCABEF"), theorem: "a1i", step: 3, label: "",
                           "compressed proof number 7 is out of range")
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) ABUUUUA"), theorem: "a1i", step: 3, label: "", "is out of range")
    }

    @Test func zBeforeFirstStep() {
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) ZABADCABEF"), theorem: "a1i", step: 1, label: "",
                           "\"Z\" before the first step")
    }

    @Test func zAfterHypothesisStep() {
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) AZBADCABEF"), theorem: "a1i", step: 1, label: "",
                           "\"Z\" after step 1, which is not an $a or $p step")
    }

    @Test func zInsideNumber() {
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) ABUZA"), theorem: "a1i", step: 3, label: "",
                           "\"Z\" in the middle of a compressed proof number")
    }

    @Test func compressedProofEndsInsideNumber() {
        expectProofFailure(F.a1i("( wi ax-1 ax-mp ) ABADCABEFU"), theorem: "a1i", step: 10, label: "",
                           "ends in the middle of a number")
    }

    @Test func unclosedLabelList() {
        expectProofFailure(F.a1i("( wi ax-1 ax-mp"), theorem: "a1i", step: 0, label: "",
                           "label list is not closed by \")\"")
    }

    @Test func whitespaceInsideCodesIsIgnored() {
        #expect(verify(F.a1i("( wi ax-1 ax-mp ) AB AD\n CA  BEF"), "a1i") == .verified)
    }

    // MARK: Proof state

    @Test func stackAfterSteps() throws {
        for proof in [F.a1iProof, compressedProof(F.a1iProof, mandatory: F.a1iMandatory)] {
            let database = try compile(F.a1i(proof))
            let theorem = try #require(database.theorem(labeled: "a1i"))
            let verifier = Verifier(database: database)
            #expect(verifier.stack(theorem: theorem.index, afterStep: 0) == .success([]))
            #expect(verifier.stack(theorem: theorem.index, afterStep: 4) == .success(["wff p", "wff ( q -> p )"]))
            #expect(verifier.stack(theorem: theorem.index, afterStep: 8)
                    == .success(["wff p", "wff ( q -> p )", "|- p", "|- ( p -> ( q -> p ) )"]))
            #expect(verifier.stack(theorem: theorem.index, afterStep: 9) == .success(["|- ( q -> p )"]))
            #expect(verifier.stack(theorem: theorem.index, afterStep: 100) == .success(["|- ( q -> p )"]))
        }
    }

    @Test func stackStopsAtAnEarlierError() throws {
        let database = try compile(F.a1i("vx wq wi ax-mp"))
        let theorem = try #require(database.theorem(labeled: "a1i"))
        let verifier = Verifier(database: database)
        #expect(verifier.stack(theorem: theorem.index, afterStep: 2) == .success(["set x", "wff q"]))
        guard case .failure(let failure) = verifier.stack(theorem: theorem.index, afterStep: 4) else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.step == 3)
        #expect(failure.label == "wi")
    }

    @Test func unknownStepIsShownAsQuestionMark() throws {
        let database = try compile(F.a1i("wp ? wi"))
        let theorem = try #require(database.theorem(labeled: "a1i"))
        let verifier = Verifier(database: database)
        #expect(verifier.stack(theorem: theorem.index, afterStep: 2) == .success(["wff p", "?"]))
        #expect(verifier.stack(theorem: theorem.index, afterStep: 3) == .success(["?"]))
    }

    @Test func notATheorem() throws {
        let database = try compile(F.a1i(F.a1iProof))
        let verifier = Verifier(database: database)
        guard case .failed(let failure) = verifier.verify(theorem: 0) else {
            Issue.record("statement 0 (wp) is not a theorem")
            return
        }
        #expect(failure.message.contains("is not a $p"))
        guard case .failed(let outOfRange) = verifier.verify(theorem: 100_000) else {
            Issue.record("statement 100000 does not exist")
            return
        }
        #expect(outOfRange.message.contains("is not a $p"))
        #expect(verifier.theoremCount == 1)
    }
}
