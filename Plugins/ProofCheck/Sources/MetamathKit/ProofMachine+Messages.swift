/// Failure messages and stack rendering (built only when a proof fails or a state is asked for).
extension ProofMachine {
    /// The stack entry as text ("?" for an unknown step).
    func render(_ entry: StackEntry) -> String {
        entry.isUnknown ? "?" : view.render(arena.base + Int(entry.start), count: Int(entry.count))
    }

    /// The most stack entries ``renderedStack()`` renders.
    static let renderedStackLimit = 100

    /// The stack, bottom first: all of it, or its top ``renderedStackLimit`` entries after one
    /// that says how many are left out ("… 150 lower entries not shown").
    func renderedStack() -> [String] {
        let first = max(0, stackCount - ProofMachine.renderedStackLimit)
        let shown = (first ..< stackCount).map { render(stack[$0]) }
        return first == 0 ? shown : ["… \(first) lower entries not shown"] + shown
    }

    /// The failure of a step whose label cannot be used: `statement` is what the name table
    /// gives for it (-1: no statement has that label).
    func badLabel(_ text: UnsafePointer<UInt8>, count: Int, statement: Int, inLabelList: Bool, step: Int) -> ProofFailure {
        let name = Echo.text(text, count: count)
        let theorem = view.shownLabel(ofStatement: theoremStatement)
        let message: String
        if statement < 0 {
            message = "label \"\(name)\" is not declared"
        } else if statement > theoremStatement {
            let file = view.fileName(Int(view.statement(statement, Statement.file)))
            message = "label \"\(name)\" is declared later (\(file):\(view.statement(statement, Statement.line))); a proof may use only earlier statements"
        } else if statement == theoremStatement {
            message = "\"\(name)\" is the theorem being proved; a theorem may not use itself"
        } else if theoremStatement >= Int(view.statement(statement, Statement.scopeEnd)) {
            message = "hypothesis \"\(name)\" is not active here (its block has ended)"
        } else {
            message = "\"\(name)\" is a mandatory hypothesis of \"\(theorem)\" and may not appear in the compressed proof's label list"
        }
        return ProofFailure(step: step, label: name, message: message)
    }

    /// A `$f` hypothesis got an expression of another type.
    func floatingMismatch(assertion: Int, hypothesis: Int, found: StackEntry, step: Int) -> ProofFailure {
        let start = Int(view.statement(hypothesis, Statement.expressionStart))
        let typecode = view.shownSymbol(view.expressions[start])
        let message = "hypothesis \"\(view.shownLabel(ofStatement: hypothesis))\" of \(view.shownLabel(ofStatement: assertion)): expected an expression of type \"\(typecode)\", found \"\(render(found))\""
        return ProofFailure(step: step, label: view.shownLabel(ofStatement: assertion), message: message)
    }

    /// A `$e` hypothesis does not match after substitution.
    func essentialMismatch(assertion: Int, hypothesis: Int, pattern: Int, patternCount: Int,
                                   found: StackEntry, step: Int) -> ProofFailure {
        var expected = ""
        for j in 0 ..< patternCount {
            let symbol = view.frames[pattern + j]
            if j > 0 { expected += " " }
            if symbol >= 0 {
                expected += view.shownSymbol(symbol)
            } else {
                let value = substitution[Int(-1 - symbol)]
                expected += view.render(arena.base + Int(value.start), count: Int(value.count))
            }
        }
        return ProofFailure(step: step, label: view.shownLabel(ofStatement: assertion),
                            message: "hypothesis \"\(view.shownLabel(ofStatement: hypothesis))\" of \(view.shownLabel(ofStatement: assertion)): expected \"\(expected)\", found \"\(render(found))\"")
    }

    /// A mandatory `$d` of the assertion is violated, or not guaranteed by the theorem's `$d`s.
    func disjointFailure(assertion: Int, pairs: UnsafePointer<Int32>, pair: Int, x: Int32, y: Int32,
                                 same: Bool, step: Int) -> ProofFailure {
        let first = Int(pairs[2 * pair]), second = Int(pairs[2 * pair + 1])
        let firstName = variableName(assertion: assertion, local: first)
        let secondName = variableName(assertion: assertion, local: second)
        let values = "\(firstName) := \"\(render(substitution[first]))\", \(secondName) := \"\(render(substitution[second]))\""
        let name = view.shownLabel(ofStatement: assertion)
        let message: String
        if same {
            message = "$d \(firstName) \(secondName) of \(name) is violated: both are substituted with expressions containing the variable \"\(view.shownSymbol(x))\" (\(values))"
        } else {
            message = "$d \(firstName) \(secondName) of \(name) requires $d \(view.shownSymbol(x)) \(view.shownSymbol(y)), which is not active for \"\(view.shownLabel(ofStatement: theoremStatement))\" (\(values))"
        }
        return ProofFailure(step: step, label: name, message: message)
    }

    /// Step `step` (which uses `assertion`) would build an expression of `length` symbols,
    /// more than ``ProofLimits/expressionSymbols``.
    func expressionTooLong(_ length: Int, assertion: Int, step: Int) -> ProofFailure {
        ProofFailure(step: step, label: view.shownLabel(ofStatement: assertion),
                     message: "expression at step \(step) of \(view.shownLabel(ofStatement: theoremStatement)) exceeds the limit of \(limits.expressionSymbols) symbols (it would have \(length))")
    }

    /// Step `step` (which uses `assertion`) would make the proof hold more symbols than
    /// ``ProofLimits/heldSymbols``.
    func tooMuchHeld(assertion: Int, step: Int) -> ProofFailure {
        ProofFailure(step: step, label: view.shownLabel(ofStatement: assertion),
                     message: "the expressions held at step \(step) of \(view.shownLabel(ofStatement: theoremStatement)) exceed the limit of \(limits.heldSymbols) symbols in all")
    }

    /// The name of mandatory variable `local` of an assertion.
    func variableName(assertion: Int, local: Int) -> String {
        let frame = view.frames + Int(view.statement(assertion, Statement.frame))
        var entry = frame + Frame.headerSize
        for _ in 0 ..< Int(frame[Frame.hypothesisCount]) {
            if entry[1] >= 0 && Int(entry[2]) == local {
                let start = Int(view.statement(Int(entry[0]), Statement.expressionStart))
                return view.shownSymbol(view.expressions[start + 1])
            }
            entry += Frame.hypothesisStride
        }
        return "?"
    }
}
