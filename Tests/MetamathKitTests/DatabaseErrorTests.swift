import Testing
@testable import MetamathKit

/// Rules checked when the database is compiled: each failing case names file and line.
@Suite struct DatabaseErrorTests {
    /// Declarations most cases start from (4 lines).
    static let prelude = """
        $c ( ) -> wff |- $.
        $v p q $.
        wp $f wff p $.
        wq $f wff q $.

        """

    @Test func validDatabaseCompiles() throws {
        let database = try compile(Self.prelude + "ax $a |- ( p -> q ) $.\nth $p |- ( p -> q ) $= wp wq ax $.\n")
        #expect(database.theorems.count == 1)
        let theorem = try #require(database.theorem(labeled: "th"))
        #expect(theorem.line == 6)
        #expect(theorem.file.hasSuffix("test.mm"))
        #expect(theorem.proofCost > 0)
        #expect(database.theorem(labeled: "ax") == nil)
        #expect(Verifier(database: database).verify(theorem: theorem.index) == .verified)
    }

    @Test func statementLongerThanTheFrameBuildersRingCompiles() throws {
        // The parser hands each math string to the frame builder thread through a ring of
        // 1 << 20 words; a longer statement goes through in pieces.
        let long = String(repeating: "p ", count: 1_100_000)
        let database = try compile(Self.prelude + "big $a |- \(long)$.\nax $a |- p $.\nth $p |- p $= wp ax $.\n")
        let theorem = try #require(database.theorem(labeled: "th"))
        #expect(Verifier(database: database).verify(theorem: theorem.index) == .verified)
    }

    // MARK: Bytes, tokens, comments

    @Test func nonAsciiByteIsRejected() {
        expectDatabaseError(Self.prelude + "$( caf\u{E9} $)\n", line: 5, "byte 0xC3 is not printable ASCII")
    }

    @Test func controlByteIsRejected() {
        expectDatabaseError("$c a $.\n\n$c b\u{0B} $.\n", line: 3, "byte 0xB is not printable ASCII")
        expectDatabaseError("$c a $.\u{7F}\n", line: 1, "byte 0x7F")
    }

    @Test func allFiveWhitespaceCharactersAreAccepted() throws {
        _ = try compile("$c\ta\r\n$.\u{0C}$c b $.\n")
    }

    @Test func nestedCommentIsRejected() {
        expectDatabaseError("$( outer\n $( inner $)\n $)\n$c a $.\n", line: 2, "\"$(\" inside a comment")
    }

    @Test func unterminatedCommentIsRejected() {
        expectDatabaseError("$c a $.\n$( never closed\n\n", line: 2, "comment is never closed")
    }

    @Test func commentEndMustStandAlone() {
        expectDatabaseError("$( text$)\n$c a $.\n", line: 1, "\"$)\" inside a comment must be separated by whitespace")
    }

    @Test func commentEndOutsideCommentIsRejected() {
        expectDatabaseError("$c a $.\n$)\n", line: 2, "\"$)\" outside a comment")
    }

    @Test func commentsMayAppearInsideStatements() throws {
        let database = try compile(Self.prelude + "ax $a |- $( comment $) ( p -> q ) $.\nth $p |- ( p -> q ) $= wp $( here too $) wq ax $.\n")
        #expect(Verifier(database: database).verify(theorem: database.theorems[0].index) == .verified)
    }

    @Test func unknownKeywordIsRejected() {
        expectDatabaseError("$c a $.\n$x\n", line: 2, "unknown keyword \"$x\"")
    }

    // MARK: Statements and scopes

    @Test func truncatedStatementIsRejected() {
        expectDatabaseError(Self.prelude + "ax $a |- ( p -> q )\n", line: 5, "$a statement \"ax\" is not terminated by \"$.\"")
        expectDatabaseError("$c a b\n", line: 1, "$c statement is not terminated")
        expectDatabaseError(Self.prelude + "ax $a |- p $.\nth $p |- p $= wp ax\n", line: 6, "the proof of \"th\" is not terminated")
        expectDatabaseError(Self.prelude + "lonely\n", line: 5, "label \"lonely\" is not followed by a statement")
    }

    @Test func statementInterruptedByKeywordIsRejected() {
        expectDatabaseError(Self.prelude + "ax $a |- p\n$c r $.\n", line: 6, "expected \"$.\" to end the $a statement \"ax\", found \"$c\"")
    }

    @Test func unmatchedCloseScopeIsRejected() {
        expectDatabaseError("$c a $.\n${\n$}\n$}\n", line: 4, "\"$}\" without a matching \"${\"")
    }

    @Test func unclosedScopeIsRejected() {
        expectDatabaseError("$c a $.\n${\n  ${\n  $}\n", line: 2, "\"${\" is never closed by \"$}\"")
    }

    @Test func statementWithoutLabelIsRejected() {
        expectDatabaseError(Self.prelude + "$a |- p $.\n", line: 5, "a $a statement needs a label")
    }

    @Test func labelMustBeFollowedByLabeledKeyword() {
        expectDatabaseError(Self.prelude + "lbl $c x $.\n", line: 5, "expected $f, $e, $a or $p after label \"lbl\", found \"$c\"")
    }

    @Test func strayEndKeywordIsRejected() {
        expectDatabaseError("$c a $.\n$.\n", line: 2, "unexpected \"$.\"")
    }

    // MARK: Declarations

    @Test func constantOnlyInOutermostScope() {
        expectDatabaseError("$c a $.\n${\n  $c b $.\n$}\n", line: 3, "\"$c\" is only allowed in the outermost scope")
    }

    @Test func constantRedeclaredIsRejected() {
        expectDatabaseError("$c a b $.\n$c a $.\n", line: 2, "constant \"a\" is already declared at ")
        expectDatabaseError("$c a a $.\n", line: 1, "constant \"a\" is already declared")
    }

    @Test func symbolBothConstantAndVariable() {
        expectDatabaseError("$c a $.\n$v a $.\n", line: 2, "\"a\" is declared as a variable but was declared as a constant")
        expectDatabaseError("${ $v x $. $}\n$c x $.\n", line: 2, "\"x\" is declared as a constant but was declared as a variable")
    }

    @Test func activeVariableRedeclaredIsRejected() {
        expectDatabaseError("$v x $.\n${\n  $v x $.\n$}\n", line: 3, "variable \"x\" is already declared at")
    }

    @Test func variableMayBeRedeclaredAfterItsScope() throws {
        _ = try compile("$c wff $.\n${ $v x $. wx $f wff x $. $}\n${ $v x $. wx2 $f wff x $. $}\n$v x $.\n")
    }

    @Test func mathSymbolMayNotContainDollar() {
        expectDatabaseError("$c a$b $.\n", line: 1, "math symbol \"a$b\" may not contain \"$\"")
    }

    @Test func emptyDeclarationIsRejected() {
        expectDatabaseError("$c $.\n", line: 1, "$c statement declares no symbol")
        expectDatabaseError("$c a $.\n$v $.\n", line: 2, "$v statement declares no symbol")
    }

    @Test func undeclaredSymbolIsRejected() {
        expectDatabaseError(Self.prelude + "ax $a |- ( p -> r ) $.\n", line: 5, "math symbol \"r\" is not declared")
    }

    @Test func inactiveVariableIsRejected() {
        let text = "$c wff |- $.\n${\n  $v x $.\n  wx $f wff x $.\n$}\nax $a |- x $.\n"
        expectDatabaseError(text, line: 6, "variable \"x\" is not active here")
    }

    // MARK: Labels

    @Test func duplicateLabelIsRejected() {
        expectDatabaseError(Self.prelude + "ax $a |- p $.\nax $a |- q $.\n", line: 6, "label \"ax\" is already declared at ")
    }

    /// A label's own problem is reported before one in the math string after it (the first
    /// problem in the file), although the label is looked up only once that string is read.
    @Test func labelProblemsComeBeforeMathStringProblems() {
        expectDatabaseError(Self.prelude + "ax $a |- p $.\nax $a |-\n  r $.\n", line: 6, "label \"ax\" is already declared at ")
        expectDatabaseError(Self.prelude + "ax $a |- p $.\nax $a |- q\n", line: 6, "label \"ax\" is already declared at ")
        expectDatabaseError(Self.prelude + "q $a |- p $c $.\n", line: 5, "label \"q\" has the same name as the math symbol declared at")
        // Without a label problem, the math string's is reported.
        expectDatabaseError(Self.prelude + "ax $a |-\n  r $.\n", line: 6, "math symbol \"r\" is not declared")
    }

    @Test func labelsAreUniqueEvenAcrossScopes() {
        expectDatabaseError(Self.prelude + "${ h $e |- p $. $}\n${ h $e |- q $. $}\n", line: 6, "label \"h\" is already declared")
    }

    @Test func labelMayNotEqualMathSymbol() {
        expectDatabaseError(Self.prelude + "q $a |- p $.\n", line: 5, "label \"q\" has the same name as the math symbol declared at")
        expectDatabaseError(Self.prelude + "ax $a |- p $.\n$c ax $.\n", line: 6, "math symbol \"ax\" has the same name as the label declared at")
    }

    @Test func labelCharactersAreChecked() {
        expectDatabaseError(Self.prelude + "a:x $a |- p $.\n", line: 5, "label \"a:x\" may contain only letters, digits")
        _ = try? compile(Self.prelude + "a-b_c.D9 $a |- p $.\n")
    }

    @Test func validLabelCharactersAreAccepted() throws {
        _ = try compile(Self.prelude + "a-b_c.D9 $a |- p $.\n")
    }

    // MARK: Hypotheses

    @Test func floatingNeedsTypecodeAndVariable() {
        expectDatabaseError("$c wff $.\n$v x y $.\nwx $f wff x y $.\n", line: 3, "must have exactly two symbols")
        expectDatabaseError("$c wff $.\n$v x $.\nwx $f x wff $.\n", line: 3, "the first symbol of $f statement \"wx\" must be a constant")
        expectDatabaseError("$c wff c $.\n$v x $.\nwx $f wff c $.\n", line: 3, "the second symbol of $f statement \"wx\" must be a variable")
    }

    @Test func twoActiveFloatsForOneVariable() {
        expectDatabaseError(Self.prelude + "${\n  wp2 $f wff p $.\n$}\n", line: 6, "variable \"p\" already has the active $f \"wp\"")
    }

    @Test func variableWithoutFloatInEssential() {
        let text = "$c |- $.\n$v p $.\n${\n  h $e |- p $.\n$}\n"
        expectDatabaseError(text, line: 4, "variable \"p\" in $e statement \"h\" has no active $f statement")
    }

    @Test func variableWithoutFloatInAxiomAndTheorem() {
        expectDatabaseError("$c |- $.\n$v p $.\nax $a |- p $.\n", line: 3, "variable \"p\" in $a statement \"ax\" has no active $f")
        let theorem = "$c |- wff $.\n$v p q $.\nwp $f wff p $.\nax $a |- p $.\nth $p |- q $= wp ax $.\n"
        expectDatabaseError(theorem, line: 5, "variable \"q\" in $p statement \"th\" has no active $f")
    }

    @Test func floatDeclaredAfterEssentialDoesNotCount() {
        let text = "$c |- wff $.\n$v p $.\n${\n  h $e |- p $.\n  wp $f wff p $.\n  ax $a |- p $.\n$}\n"
        expectDatabaseError(text, line: 4, "variable \"p\" in $e statement \"h\" has no active $f")
    }

    @Test func firstSymbolMustBeConstant() {
        expectDatabaseError(Self.prelude + "${ h $e p $. $}\n", line: 5, "the first symbol of $e statement \"h\" must be a constant")
        expectDatabaseError(Self.prelude + "ax $a $.\n", line: 5, "$a statement \"ax\" has no math symbols")
    }

    @Test func theoremNeedsProof() {
        expectDatabaseError(Self.prelude + "th $p |- p $.\n", line: 5, "$p statement \"th\" has no proof")
    }

    // MARK: Disjoint variables

    @Test func disjointRules() {
        let prelude = "$c |- $.\n$v x y $.\n"
        expectDatabaseError(prelude + "$d x |- $.\n", line: 3, "\"|-\" in a $d statement is a constant")
        expectDatabaseError(prelude + "$d x y x $.\n", line: 3, "variable \"x\" appears twice in a $d statement")
        expectDatabaseError(prelude + "$d x $.\n", line: 3, "a $d statement needs at least two variables")
        expectDatabaseError(prelude + "$d x z $.\n", line: 3, "math symbol \"z\" is not declared")
    }

    /// A $d's problem is reported at the line of the offending symbol, and the first problem
    /// in the file comes first.
    @Test func disjointProblemsAreReportedAtTheirSymbol() {
        let prelude = "$c |- $.\n$v x y $.\n"
        expectDatabaseError(prelude + "$d x\n  |- $.\n", line: 4, "\"|-\" in a $d statement is a constant")
        expectDatabaseError(prelude + "$d x y\n  x $.\n", line: 4, "variable \"x\" appears twice in a $d statement")
        expectDatabaseError(prelude + "$d x |-\n  z $.\n", line: 3, "\"|-\" in a $d statement is a constant")
    }

    // MARK: Missing file

    @Test func missingMainFile() {
        do {
            _ = try CompiledDatabase.compile(path: "/nonexistent/dir/none.mm")
            Issue.record("compiled a missing file")
        } catch {
            #expect(error.file == "/nonexistent/dir/none.mm")
            #expect(error.line == 0)
            #expect(error.description == "/nonexistent/dir/none.mm: cannot read the database: No such file or directory")
        }
    }

    @Test func errorDescriptionIsOneLine() {
        let error = DatabaseError(file: "a.mm", line: 3, message: "bad")
        #expect(error.description == "a.mm:3: bad")
    }
}
