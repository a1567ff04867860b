/// Executes proofs against an image: the stack machine of the Metamath book with its scratch
/// buffers (arena of math strings, stack, saved subproofs, substitution, `$d` set), all reused
/// from proof to proof.
struct ProofMachine {
    typealias Statement = ImageLayout.StatementRecord
    typealias Theorem = ImageLayout.TheoremRecord
    typealias Frame = ImageLayout.FrameRecord

    let view: ImageView
    /// 1 for a variable, 0 for a constant, by symbol id.
    let isVariable: UnsafeMutablePointer<UInt8>
    /// How large expressions may grow.
    let limits: ProofLimits

    private(set) var arena = ScratchBuffer<Int32>(capacity: 1 << 16)
    private(set) var arenaCount = 0
    private(set) var stack = ScratchBuffer<StackEntry>(capacity: 1 << 10)
    private(set) var stackCount = 0
    /// For each stack slot, the largest arena end of the entries up to it: what the stack below
    /// a step's hypotheses still uses of the arena.
    private var stackEnds = ScratchBuffer<Int32>(capacity: 1 << 10)
    /// The largest arena end of a saved (`Z`) subproof: the arena below it stays.
    var savedEnd: Int32 = 0
    /// Once this many arena entries above everything still in use have piled up, a step's result
    /// is moved down over them. Ordinary proofs never get there; a proof whose expressions keep
    /// growing would otherwise need memory quadratic in its length.
    static let reclaimThreshold = 1 << 16
    var saved = ScratchBuffer<StackEntry>(capacity: 1 << 10)
    var savedCount = 0
    var substitution = ScratchBuffer<StackEntry>(capacity: 64)
    /// The statements of a compressed proof's label list.
    var labels = ScratchBuffer<Int32>(capacity: 256)
    var labelCount = 0
    var disjointPairs = DisjointPairSet()
    var disjointLoaded = false
    /// Unknown steps executed so far.
    private(set) var unknownCount = 0

    /// The theorem being proved: statement index and theorem record.
    var theoremStatement = 0
    var theoremRecord = 0

    init(view: ImageView, limits: ProofLimits = .standard) {
        self.view = view
        self.limits = limits
        isVariable = .allocate(capacity: max(view.symbolCount, 1))
        for symbol in 0 ..< view.symbolCount {
            isVariable[symbol] = UInt8(truncatingIfNeeded: view.symbols[symbol * ImageLayout.SymbolRecord.stride + ImageLayout.SymbolRecord.isVariable])
        }
    }

    func deallocate() {
        isVariable.deallocate()
        arena.deallocate()
        stack.deallocate()
        stackEnds.deallocate()
        saved.deallocate()
        substitution.deallocate()
        labels.deallocate()
        disjointPairs.deallocate()
    }

    // MARK: Running a proof

    /// The theorem record of statement `index`, or nil if it is not a `$p`.
    func theoremRecord(ofStatement index: Int32) -> Int? {
        guard index >= 0, Int(index) < view.statementCount else { return nil }
        let record = view.statement(Int(index), Statement.theorem)
        return record >= 0 ? Int(record) : nil
    }

    /// Executes the first `limit` steps of theorem record `record` (all of them when `limit` is
    /// larger) and returns the number of steps executed. Throws at the first error.
    ///
    /// The proof is read from its text: a normal proof is a list of labels (`?` for an unknown
    /// step); a compressed proof is `( labels ) codes`. Labels are resolved through the image's
    /// name table as they are met; a compressed proof's label list is resolved (and its
    /// problems reported, at step 0) before any step runs.
    mutating func run(theorem record: Int, limit: Int) throws(ProofFailure) -> Int {
        theoremRecord = record
        theoremStatement = Int(view.theorem(record, Theorem.statement))
        arenaCount = 0
        stackCount = 0
        savedCount = 0
        savedEnd = 0
        unknownCount = 0
        disjointLoaded = false
        let text = view.proofs + Int(view.theorem(record, Theorem.proofStart))
        let end = Int(view.theorem(record, Theorem.proofLength))
        var p = ProofMachine.skipSpace(text, 0, end)
        guard p < end, text[p] == UInt8(ascii: "("), p + 1 == end || text[p + 1] <= 0x20 else {
            return try runNormal(text, from: p, end: end, limit: limit)
        }
        p += 1
        labelCount = 0
        while true {
            p = ProofMachine.skipSpace(text, p, end)
            if p == end {
                throw ProofFailure(step: 0, label: "", message: "the compressed proof's label list is not closed by \")\"")
            }
            let q = ProofMachine.tokenEnd(text, p, end)
            if q - p == 1 && text[p] == UInt8(ascii: ")") {
                p = q
                break
            }
            let statement = try resolve(text + p, count: q - p, inLabelList: true, step: 0)
            labels.reserve(labelCount + 1, keeping: labelCount)
            labels[labelCount] = Int32(truncatingIfNeeded: statement)
            labelCount += 1
            p = q
        }
        return try runCompressed(text + p, count: end - p, limit: limit)
    }

    /// The first position from `p` that is not whitespace (proof text holds only printable
    /// ASCII and whitespace: the master checked every byte).
    @inline(__always)
    static func skipSpace(_ text: UnsafePointer<UInt8>, _ p: Int, _ end: Int) -> Int {
        var p = p
        while p < end && text[p] <= 0x20 { p &+= 1 }
        return p
    }

    /// The end of the token that starts at `p`.
    @inline(__always)
    static func tokenEnd(_ text: UnsafePointer<UInt8>, _ p: Int, _ end: Int) -> Int {
        var p = p &+ 1
        while p < end && text[p] > 0x20 { p &+= 1 }
        return p
    }

    /// The statement a proof label names, checked against the theorem being proved: declared
    /// earlier, not the theorem itself, an active hypothesis, and (in a compressed proof's
    /// label list) not one of the theorem's mandatory hypotheses.
    @inline(__always)
    func resolve(_ name: UnsafePointer<UInt8>, count: Int, inLabelList: Bool, step: Int) throws(ProofFailure) -> Int {
        let found = view.statement(labeled: name, count: count)
        let statement = Int(found)
        if found >= 0 && statement < theoremStatement {
            if view.statement(statement, Statement.kind) > ImageLayout.StatementKind.essential { return statement }
            if theoremStatement < Int(view.statement(statement, Statement.scopeEnd))
                && !(inLabelList && isMandatory(hypothesis: statement)) {
                return statement
            }
        }
        throw badLabel(name, count: count, statement: statement, inLabelList: inLabelList, step: step)
    }

    /// Whether `hypothesis` is a mandatory hypothesis of the theorem being proved.
    func isMandatory(hypothesis: Int) -> Bool {
        let frame = view.frames + Int(view.statement(theoremStatement, Statement.frame))
        var entry = frame + Frame.headerSize
        for _ in 0 ..< Int(frame[Frame.hypothesisCount]) {
            if Int(entry[0]) == hypothesis { return true }
            entry += Frame.hypothesisStride
        }
        return false
    }

    /// Checks the end of a proof that ran all its `steps`; returns the number of unknown steps.
    func finish(steps: Int) throws(ProofFailure) -> Int {
        let end = steps + 1
        if stackCount != 1 {
            if steps == 0 { throw ProofFailure(step: end, label: "", message: "the proof is empty") }
            throw ProofFailure(step: end, label: "",
                               message: "the proof leaves \(stackCount) entries on the stack, expected 1")
        }
        if unknownCount > 0 { return unknownCount }
        let top = stack[0]
        let start = Int(view.statement(theoremStatement, Statement.expressionStart))
        let count = Int(view.statement(theoremStatement, Statement.expressionCount))
        if Int(top.count) != count || !equal(arena.base + Int(top.start), view.expressions + start, count) {
            throw ProofFailure(step: end, label: "",
                               message: "the proof proves \"\(render(top))\", but the statement is \"\(view.render(statement: theoremStatement))\"")
        }
        return 0
    }

    /// A normal proof: each label is resolved and executed in turn.
    mutating func runNormal(_ text: UnsafePointer<UInt8>, from start: Int, end: Int, limit: Int) throws(ProofFailure) -> Int {
        var p = start
        var steps = 0
        while steps < limit {
            p = ProofMachine.skipSpace(text, p, end)
            if p == end { break }
            let q = ProofMachine.tokenEnd(text, p, end)
            steps += 1
            if q - p == 1 && text[p] == UInt8(ascii: "?") {
                push(.unknown)
                unknownCount += 1
            } else {
                try execute(statement: resolve(text + p, count: q - p, inLabelList: false, step: steps), step: steps)
            }
            p = q
        }
        return steps
    }

    /// The codes of a compressed proof (whitespace is skipped), after its label list was
    /// resolved into ``labels``.
    mutating func runCompressed(_ codes: UnsafePointer<UInt8>, count codeCount: Int, limit: Int) throws(ProofFailure) -> Int {
        let frame = view.frames + Int(view.statement(theoremStatement, Statement.frame))
        let mandatory = Int(frame[Frame.hypothesisCount])
        let labelCount = self.labelCount
        var number = 0
        var steps = 0
        /// Whether the last step was an assertion (only those may be saved with `Z`).
        var lastWasAssertion = false
        for i in 0 ..< codeCount {
            let c = codes[i]
            if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "T") {
                number = number &* 20 &+ Int(c &- 64)
                if steps == limit { return steps }
                steps += 1
                let k = number
                number = 0
                if k <= mandatory {
                    let hypothesis = frame[Frame.headerSize + (k - 1) * Frame.hypothesisStride]
                    try pushCopy(ofStatement: Int(hypothesis), step: steps)
                    lastWasAssertion = false
                } else if k <= mandatory + labelCount {
                    let statement = Int(labels[k - mandatory - 1])
                    try execute(statement: statement, step: steps)
                    lastWasAssertion = view.statement(statement, Statement.kind) >= ImageLayout.StatementKind.axiom
                } else if k <= mandatory + labelCount + savedCount {
                    push(saved[k - mandatory - labelCount - 1])
                    lastWasAssertion = false
                } else {
                    throw ProofFailure(step: steps, label: "", message: "compressed proof number \(k) is out of range: there are \(mandatory) mandatory hypotheses, \(labelCount) listed labels and \(savedCount) saved subproofs (1...\(mandatory + labelCount + savedCount))")
                }
            } else if c >= UInt8(ascii: "U") && c <= UInt8(ascii: "Y") {
                number = number &* 5 &+ Int(c &- 84)
                if number > 1 << 40 {
                    throw ProofFailure(step: steps + 1, label: "", message: "compressed proof number is out of range (too many digits)")
                }
            } else if c == UInt8(ascii: "Z") {
                if number != 0 {
                    throw ProofFailure(step: steps + 1, label: "", message: "\"Z\" in the middle of a compressed proof number")
                }
                if steps == 0 {
                    throw ProofFailure(step: 1, label: "", message: "\"Z\" before the first step of the compressed proof")
                }
                if !lastWasAssertion {
                    throw ProofFailure(step: steps, label: "", message: "\"Z\" after step \(steps), which is not an $a or $p step; only assertion steps may be saved")
                }
                saved.reserve(savedCount + 1, keeping: savedCount)
                saved[savedCount] = stack[stackCount - 1]
                if !saved[savedCount].isUnknown { savedEnd = max(savedEnd, saved[savedCount].start + saved[savedCount].count) }
                savedCount += 1
            } else if c == UInt8(ascii: "?") {
                if number != 0 {
                    throw ProofFailure(step: steps + 1, label: "", message: "\"?\" in the middle of a compressed proof number")
                }
                if steps == limit { return steps }
                steps += 1
                push(.unknown)
                unknownCount += 1
                lastWasAssertion = false
            } else if c > 0x20 {
                let shown = c >= 0x21 && c < 0x7F ? String(UnicodeScalar(c)) : "byte \(c)"
                throw ProofFailure(step: steps + 1, label: "", message: "invalid character \"\(shown)\" in the compressed proof")
            }
        }
        if number != 0 {
            throw ProofFailure(step: steps + 1, label: "", message: "the compressed proof ends in the middle of a number")
        }
        return steps
    }

    /// Executes one step that names a statement.
    @inline(__always)
    mutating func execute(statement: Int, step: Int) throws(ProofFailure) {
        if view.statement(statement, Statement.kind) <= ImageLayout.StatementKind.essential {
            try pushCopy(ofStatement: statement, step: step)
        } else {
            try apply(assertion: statement, step: step)
        }
    }

    // MARK: Applying an assertion

    mutating func apply(assertion: Int, step: Int) throws(ProofFailure) {
        let frame = view.frames + Int(view.statement(assertion, Statement.frame))
        let hypothesisCount = Int(frame[Frame.hypothesisCount])
        guard stackCount >= hypothesisCount else {
            throw ProofFailure(step: step, label: view.shownLabel(ofStatement: assertion),
                               message: "\(view.shownLabel(ofStatement: assertion)) needs \(hypothesisCount) hypotheses, but the stack holds \(stackCount) \(stackCount == 1 ? "entry" : "entries")")
        }
        let base = stackCount - hypothesisCount
        let hypotheses = frame + Frame.headerSize
        // Unknown (`?`) entries, as metamath-exe treats them: an unknown $f leaves a variable
        // unbound, so the result is unknown; with only unknown $e's the rest is still unified
        // but a mismatch makes the result unknown instead of an error.
        var lenient = false
        var entry = hypotheses
        for i in base ..< stackCount {
            if stack[i].isUnknown {
                if entry[1] >= 0 {
                    stackCount = base
                    push(.unknown)
                    return
                }
                lenient = true
            }
            entry += Frame.hypothesisStride
        }
        substitution.reserve(Int(frame[Frame.variableCount]), keeping: 0)
        // Bind each variable to the expression of its $f hypothesis.
        entry = hypotheses
        for i in 0 ..< hypothesisCount {
            let typecode = entry[1]
            if typecode >= 0 {
                let found = stack[base + i]
                // The typecode alone is the empty expression: as in the Metamath book and
                // metamath-exe's verifier, a variable may be substituted by it in any database.
                if arena[Int(found.start)] != typecode {
                    if lenient { return replaceByUnknown(base: base) }
                    throw floatingMismatch(assertion: assertion, hypothesis: Int(entry[0]), found: found, step: step)
                }
                substitution[Int(entry[2])] = StackEntry(start: found.start + 1, count: found.count - 1)
            }
            entry += Frame.hypothesisStride
        }
        // Each $e must equal its pattern under the substitution.
        entry = hypotheses
        for i in 0 ..< hypothesisCount {
            if entry[1] < 0 {
                let found = stack[base + i]
                if !found.isUnknown && !matches(pattern: view.frames + Int(entry[2]), count: Int(entry[3]), found) {
                    if lenient { return replaceByUnknown(base: base) }
                    throw essentialMismatch(assertion: assertion, hypothesis: Int(entry[0]), pattern: Int(entry[2]),
                                            patternCount: Int(entry[3]), found: found, step: step)
                }
            }
            entry += Frame.hypothesisStride
        }
        let disjointCount = Int(frame[Frame.disjointCount])
        if disjointCount > 0 {
            try checkDisjoint(pairs: entry, count: disjointCount, assertion: assertion, step: step)
        }
        // Push the substituted conclusion.
        let pattern = view.frames + Int(frame[Frame.conclusionStart])
        let patternCount = Int(frame[Frame.conclusionCount])
        var length = 0
        for j in 0 ..< patternCount {
            let symbol = pattern[j]
            length += symbol >= 0 ? 1 : Int(substitution[Int(-1 - symbol)].count)
        }
        if length > limits.expressionSymbols { throw expressionTooLong(length, assertion: assertion, step: step) }
        try reserveArena(arenaCount + length, assertion: assertion, step: step)
        let start = arenaCount
        var out = arena.base + start
        for j in 0 ..< patternCount {
            let symbol = pattern[j]
            if symbol >= 0 {
                out.pointee = symbol
                out += 1
            } else {
                let value = substitution[Int(-1 - symbol)]
                let source = arena.base + Int(value.start)
                for t in 0 ..< Int(value.count) { out[t] = source[t] }
                out += Int(value.count)
            }
        }
        arenaCount += length
        stackCount = base
        // The hypotheses just popped are garbage unless the stack below or a saved subproof
        // uses that part of the arena: reclaim it when much has piled up.
        let inUse = Int(max(savedEnd, base > 0 ? stackEnds[base - 1] : 0))
        if start - inUse >= ProofMachine.reclaimThreshold {
            (arena.base + inUse).update(from: arena.base + start, count: length)
            arenaCount = inUse + length
            push(StackEntry(start: Int32(inUse), count: Int32(length)))
            return
        }
        push(StackEntry(start: Int32(start), count: Int32(length)))
    }

    /// Pops the hypotheses of a step from `base` on and pushes an unknown result.
    private mutating func replaceByUnknown(base: Int) {
        stackCount = base
        push(.unknown)
    }

    /// Whether `found` equals `pattern` under the current substitution.
    @inline(__always)
    func matches(pattern: UnsafePointer<Int32>, count: Int, _ found: StackEntry) -> Bool {
        var q = Int(found.start)
        let end = q + Int(found.count)
        let symbols = arena.base
        for j in 0 ..< count {
            let symbol = pattern[j]
            if symbol >= 0 {
                if q >= end || symbols[q] != symbol { return false }
                q += 1
            } else {
                let value = substitution[Int(-1 - symbol)]
                let length = Int(value.count)
                if q + length > end { return false }
                let source = symbols + Int(value.start)
                for t in 0 ..< length where source[t] != symbols[q + t] { return false }
                q += length
            }
        }
        return q == end
    }

    /// Checks the mandatory `$d` pairs of the assertion under the current substitution.
    mutating func checkDisjoint(pairs: UnsafePointer<Int32>, count: Int, assertion: Int, step: Int) throws(ProofFailure) {
        for p in 0 ..< count {
            let first = substitution[Int(pairs[2 * p])]
            let second = substitution[Int(pairs[2 * p + 1])]
            for i in Int(first.start) ..< Int(first.start + first.count) {
                let x = arena[i]
                guard isVariable[Int(x)] != 0 else { continue }
                for j in Int(second.start) ..< Int(second.start + second.count) {
                    let y = arena[j]
                    guard isVariable[Int(y)] != 0 else { continue }
                    if x == y {
                        throw disjointFailure(assertion: assertion, pairs: pairs, pair: p, x: x, y: y, same: true, step: step)
                    }
                    if !disjointLoaded {
                        disjointPairs.load(nodes: view.disjointNodes, top: view.theorem(theoremRecord, Theorem.disjointTop))
                        disjointLoaded = true
                    }
                    if !disjointPairs.contains(x, y) {
                        throw disjointFailure(assertion: assertion, pairs: pairs, pair: p, x: x, y: y, same: false, step: step)
                    }
                }
            }
        }
    }

    // MARK: Stack

    @inline(__always)
    mutating func push(_ entry: StackEntry) {
        stack.reserve(stackCount + 1, keeping: stackCount)
        stackEnds.reserve(stackCount + 1, keeping: stackCount)
        stack[stackCount] = entry
        let end = entry.isUnknown ? 0 : entry.start + entry.count
        stackEnds[stackCount] = stackCount > 0 ? max(stackEnds[stackCount - 1], end) : end
        stackCount += 1
    }

    /// Pushes a copy of a hypothesis's math string (at `step`).
    @inline(__always)
    mutating func pushCopy(ofStatement statement: Int, step: Int) throws(ProofFailure) {
        let start = Int(view.statement(statement, Statement.expressionStart))
        let count = Int(view.statement(statement, Statement.expressionCount))
        try reserveArena(arenaCount + count, assertion: statement, step: step)
        let out = arena.base + arenaCount
        let source = view.expressions + start
        for t in 0 ..< count { out[t] = source[t] }
        push(StackEntry(start: Int32(arenaCount), count: Int32(count)))
        arenaCount += count
    }

    /// Makes room for `needed` symbols in the arena (keeping what it holds), within
    /// ``ProofLimits/heldSymbols``; `assertion` is the statement used at `step`.
    @inline(__always)
    mutating func reserveArena(_ needed: Int, assertion: Int, step: Int) throws(ProofFailure) {
        if needed > limits.heldSymbols { throw tooMuchHeld(assertion: assertion, step: step) }
        arena.reserve(needed, keeping: arenaCount)
    }

    @inline(__always)
    func equal(_ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ count: Int) -> Bool {
        for i in 0 ..< count where a[i] != b[i] { return false }
        return true
    }

}
