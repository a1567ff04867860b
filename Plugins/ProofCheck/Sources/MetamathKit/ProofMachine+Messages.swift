/// Failure messages and stack rendering (built only when a proof fails or a state is asked for).
extension ProofMachine {
    /// The stack entry as text ("?" for an unknown step).
    func render(_ entry: StackEntry) -> String {
        entry.isUnknown ? "?" : view.render(arena.base + Int(entry.start), count: Int(entry.count))
    }

    /// The whole stack, bottom first.
    func renderedStack() -> [String] {
        (0 ..< stackCount).map { render(stack[$0]) }
    }

    /// The failure of a step whose label cannot be used: `statement` is what the name table
    /// gives for it (-1: no statement has that label).
    func badLabel(_ text: UnsafePointer<UInt8>, count: Int, statement: Int, inLabelList: Bool, step: Int) -> ProofFailure {
        let name = String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        let theorem = view.label(ofStatement: theoremStatement)
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
        let typecode = view.symbolName(view.expressions[start])
        let message = "hypothesis \"\(view.label(ofStatement: hypothesis))\" of \(view.label(ofStatement: assertion)): expected an expression of type \"\(typecode)\", found \"\(render(found))\""
        return ProofFailure(step: step, label: view.label(ofStatement: assertion), message: message)
    }

    /// A `$e` hypothesis does not match after substitution.
    func essentialMismatch(assertion: Int, hypothesis: Int, pattern: Int, patternCount: Int,
                                   found: StackEntry, step: Int) -> ProofFailure {
        var expected = ""
        for j in 0 ..< patternCount {
            let symbol = view.frames[pattern + j]
            if j > 0 { expected += " " }
            if symbol >= 0 {
                expected += view.symbolName(symbol)
            } else {
                let value = substitution[Int(-1 - symbol)]
                expected += view.render(arena.base + Int(value.start), count: Int(value.count))
            }
        }
        return ProofFailure(step: step, label: view.label(ofStatement: assertion),
                            message: "hypothesis \"\(view.label(ofStatement: hypothesis))\" of \(view.label(ofStatement: assertion)): expected \"\(expected)\", found \"\(render(found))\"")
    }

    /// A mandatory `$d` of the assertion is violated, or not guaranteed by the theorem's `$d`s.
    func disjointFailure(assertion: Int, pairs: UnsafePointer<Int32>, pair: Int, x: Int32, y: Int32,
                                 same: Bool, step: Int) -> ProofFailure {
        let first = Int(pairs[2 * pair]), second = Int(pairs[2 * pair + 1])
        let firstName = variableName(assertion: assertion, local: first)
        let secondName = variableName(assertion: assertion, local: second)
        let values = "\(firstName) := \"\(render(substitution[first]))\", \(secondName) := \"\(render(substitution[second]))\""
        let name = view.label(ofStatement: assertion)
        let message: String
        if same {
            message = "$d \(firstName) \(secondName) of \(name) is violated: both are substituted with expressions containing the variable \"\(view.symbolName(x))\" (\(values))"
        } else {
            message = "$d \(firstName) \(secondName) of \(name) requires $d \(view.symbolName(x)) \(view.symbolName(y)), which is not active for \"\(view.label(ofStatement: theoremStatement))\" (\(values))"
        }
        return ProofFailure(step: step, label: name, message: message)
    }

    /// The name of mandatory variable `local` of an assertion.
    func variableName(assertion: Int, local: Int) -> String {
        let frame = view.frames + Int(view.statement(assertion, Statement.frame))
        var entry = frame + Frame.headerSize
        for _ in 0 ..< Int(frame[Frame.hypothesisCount]) {
            if entry[1] >= 0 && Int(entry[2]) == local {
                let start = Int(view.statement(Int(entry[0]), Statement.expressionStart))
                return view.symbolName(view.expressions[start + 1])
            }
            entry += Frame.hypothesisStride
        }
        return "?"
    }
}
