/// Builds the frames section on its own thread, from the parser's ``FrameEvent``s: which
/// hypotheses and `$d` pairs each assertion needs.
///
/// The builder replays the scoping the parser has already checked (blocks, active `$f`s and
/// `$e`s, `$d`s) with state of its own, so it shares no mutable memory with the parser: the
/// ring carries everything, including the math strings. The frames it produces are those the
/// parser would compute itself at each assertion.
struct FrameBuilder {
    /// The frames section (see ``ImageLayout/FrameRecord``).
    private(set) var frames = GrowableBuffer<Int32>()
    /// (statement, frame offset) per assertion, in order.
    private(set) var frameOffsets = GrowableBuffer<Int32>()

    // Per symbol.
    private var isVariable = GrowableBuffer<UInt8>()
    /// The active `$f` of a variable, or -1.
    private var float = GrowableBuffer<Int32>()
    private var mark = GrowableBuffer<UInt32>()
    /// Local index of a variable in the frame being built.
    private var local = GrowableBuffer<Int32>()

    /// What the builder keeps per statement (dense: every labelled statement has one event):
    /// a `$f`'s typecode and variable; a `$e`'s math string (start and length in
    /// ``essentialExpressions``), its distinct variables (start and count in
    /// ``essentialVariables``) and the pattern last written for it (or -1).
    private struct StatementInfo {
        var first: Int32
        var second: Int32
        var variablesStart: Int32 = 0
        var variablesCount: Int32 = 0
        var patternStart: Int32 = -1
    }

    /// Per statement, one record (one append per statement).
    private var statementInfo = GrowableBuffer<StatementInfo>()

    private var essentialExpressions = GrowableBuffer<Int32>()
    /// The distinct variables of each `$e`, and the local index each had in the frame that
    /// last wrote the `$e`'s pattern.
    private var essentialVariables = GrowableBuffer<Int32>()
    private var essentialLocals = GrowableBuffer<Int32>()

    /// Active `$e` statements, in order of appearance.
    private var activeEssentials = GrowableBuffer<Int32>()
    /// Variables whose `$f` was declared inside open blocks.
    private var scopedFloats = GrowableBuffer<Int32>()
    /// Per open block: active `$e` count, scoped `$f` count, `$d` top at its `${`.
    private var scopes = GrowableBuffer<Int32>()
    /// Every `$d` pair: a persistent stack of (a, b, parent) nodes, whose top is the active
    /// pairs' (the image's disjoint nodes section).
    private(set) var disjointNodes = GrowableBuffer<Int32>()
    private var disjointTop: Int32 = -1

    private var markValue: UInt32 = 0
    /// The math string of the assertion being framed.
    private var expression = GrowableBuffer<Int32>()
    /// The mandatory `$f`s of the frame being built.
    private var frameFloats = GrowableBuffer<Int32>()
    /// The mandatory `$d` pairs of the frame being built, as a bit matrix over local indices
    /// (all zero between frames).
    private var disjointBits = GrowableBuffer<UInt64>()

    /// Sized for a database of `sizeHint` bytes (as the parser sizes its tables), so the
    /// arrays rarely grow: each growth copies into fresh memory the kernel must zero.
    init(sizeHint: Int) {
        frames = GrowableBuffer(capacity: sizeHint / 4)
        frameOffsets = GrowableBuffer(capacity: sizeHint / 128)
        disjointNodes = GrowableBuffer(capacity: sizeHint / 64)
        let statements = sizeHint / 64
        statementInfo = GrowableBuffer(capacity: statements)
        essentialExpressions = GrowableBuffer(capacity: sizeHint / 32)
        essentialVariables = GrowableBuffer(capacity: statements)
        essentialLocals = GrowableBuffer(capacity: statements)
    }

    /// Reads events until ``FrameEvent/end``.
    mutating func run(_ reader: inout EventRing.Reader) {
        while true {
            switch reader.take() {
            case FrameEvent.symbol:
                isVariable.append(UInt8(reader.take()))
                float.append(-1)
                mark.append(0)
                local.append(0)
            case FrameEvent.openScope:
                scopes.append(Int32(activeEssentials.count))
                scopes.append(Int32(scopedFloats.count))
                scopes.append(disjointTop)
            case FrameEvent.closeScope:
                let base = scopes.count - 3
                activeEssentials.truncate(to: Int(scopes[base]))
                let floatCount = Int(scopes[base + 1])
                for i in floatCount ..< scopedFloats.count { float[Int(scopedFloats[i])] = -1 }
                scopedFloats.truncate(to: floatCount)
                disjointTop = scopes[base + 2]
                scopes.truncate(to: base)
            case FrameEvent.floating:
                let statement = reader.take(), typecode = reader.take(), variable = reader.take()
                addStatement(statement, typecode, variable)
                float[Int(variable)] = statement
                if !scopes.isEmpty { scopedFloats.append(variable) }
            case FrameEvent.essential:
                let (statement, wordCount) = reader.take2()
                let count = Int(wordCount)
                let start = essentialExpressions.count
                reader.take(into: essentialExpressions.appendSpace(minimum: count).baseAddress!, count: count)
                essentialExpressions.commitAppended(count)
                addStatement(statement, Int32(start), Int32(count))
                recordVariables(ofEssential: statement)
                activeEssentials.append(statement)
            case FrameEvent.disjoint:
                let count = Int(reader.take())
                readExpression(&reader, count: count)
                // Every pair, written in place: each node's parent is the one before.
                let pairWords = count * (count - 1) / 2 * 3
                let out = disjointNodes.appendSpace(minimum: pairWords).baseAddress!
                let variables = expression.base
                var node = Int32(disjointNodes.count / 3), top = disjointTop
                var written = 0
                for i in 0 ..< count {
                    let a = variables[i]
                    for j in i + 1 ..< count {
                        let b = variables[j]
                        out[written] = min(a, b)
                        out[written &+ 1] = max(a, b)
                        out[written &+ 2] = top
                        top = node
                        node &+= 1
                        written &+= 3
                    }
                }
                disjointNodes.commitAppended(written)
                disjointTop = top
            case FrameEvent.assertion:
                let (statement, wordCount) = reader.take2()
                let count = Int(wordCount)
                readExpression(&reader, count: count)
                addStatement(statement, 0, 0)
                buildFrame(for: statement)
            default:
                return
            }
        }
    }

    /// Takes a math string of `count` symbols into ``expression``.
    private mutating func readExpression(_ reader: inout EventRing.Reader, count: Int) {
        expression.removeAll()
        reader.take(into: expression.appendSpace(minimum: count).baseAddress!, count: count)
        expression.commitAppended(count)
    }

    private mutating func addStatement(_ statement: Int32, _ a: Int32, _ b: Int32) {
        precondition(Int(statement) == statementInfo.count, "frame events out of order")
        statementInfo.append(StatementInfo(first: a, second: b))
    }

    /// Computes the frame of the assertion whose math string is ``expression``.
    ///
    /// Mandatory hypotheses are the active `$f`s of variables that occur in the assertion or an
    /// active `$e`, and every active `$e`, in order of appearance; mandatory `$d` pairs are the
    /// active pairs of two mandatory variables. A `$e`'s pattern is shared with the previous
    /// frame that wrote it when both number its variables the same way.
    private mutating func buildFrame(for statement: Int32) {
        markValue &+= 1
        let current = markValue
        // The mandatory variables' $f's, collected through pointers (every symbol id is below
        // the symbol count, and a variable is collected once: at most that many).
        let variables = isVariable.base, marks = mark.base, floats = float.base, locals = local.base
        frameFloats.removeAll()
        let collected = frameFloats.appendSpace(minimum: isVariable.count).baseAddress!
        var floatCount = 0
        let symbols = expression.base
        for i in 0 ..< expression.count {
            let s = Int(symbols[i])
            if variables[s] != 0 && marks[s] != current {
                marks[s] = current
                collected[floatCount] = floats[s]
                floatCount &+= 1
            }
        }
        let essentialCount = activeEssentials.count
        let essentials = activeEssentials.base
        for i in 0 ..< essentialCount {
            let info = statementInfo[Int(essentials[i])]
            let hypothesisVariables = essentialVariables.base + Int(info.variablesStart)
            for k in 0 ..< Int(info.variablesCount) {
                let s = Int(hypothesisVariables[k])
                if marks[s] != current {
                    marks[s] = current
                    collected[floatCount] = floats[s]
                    floatCount &+= 1
                }
            }
        }
        frameFloats.commitAppended(floatCount)
        FrameBuilder.insertionSort(collected, count: floatCount)
        let frameStart = frames.count
        let hypothesisCount = floatCount + essentialCount
        let recordSize = ImageLayout.FrameRecord.headerSize + hypothesisCount * ImageLayout.FrameRecord.hypothesisStride
        let record = frames.appendSpace(minimum: recordSize).baseAddress!
        var variableCount: Int32 = 0
        // Merge the mandatory $f's and the active $e's by statement index (order of appearance).
        var f = 0, e = 0
        var out = record + ImageLayout.FrameRecord.headerSize
        // Hypotheses are statements before this one.
        let infos = statementInfo.base
        while f < floatCount || e < essentialCount {
            if e == essentialCount || (f < floatCount && collected[f] < essentials[e]) {
                let hypothesis = collected[f]
                f &+= 1
                let info = infos[Int(hypothesis)]
                locals[Int(info.second)] = variableCount
                out[0] = hypothesis
                out[1] = info.first
                out[2] = variableCount
                out[3] = 0
                variableCount &+= 1
            } else {
                let hypothesis = essentials[e]
                e &+= 1
                out[0] = hypothesis
                out[1] = -1
                out[2] = 0
                out[3] = 0
            }
            out += ImageLayout.FrameRecord.hypothesisStride
        }
        frames.commitAppended(recordSize)
        let disjointCount = appendDisjointPairs(variableCount: Int(variableCount), mark: current)
        // Patterns: the conclusion, then each $e (unless an earlier frame's can be reused).
        let conclusionStart = frames.count
        appendPattern(symbols, count: expression.count, mark: current)
        // The record's words are below frames.count; frames.base is read again after each
        // pattern, which may have moved the frames.
        var entry = frameStart + ImageLayout.FrameRecord.headerSize
        for _ in 0 ..< hypothesisCount {
            if frames.base[entry + 1] < 0 {
                let hypothesis = frames.base[entry]
                let pattern = essentialPattern(of: hypothesis, mark: current)
                let hypothesisEntry = frames.base + entry
                hypothesisEntry[2] = pattern
                hypothesisEntry[3] = statementInfo.base[Int(hypothesis)].second
            }
            entry += ImageLayout.FrameRecord.hypothesisStride
        }
        let header = frames.base + frameStart
        header[ImageLayout.FrameRecord.hypothesisCount] = Int32(hypothesisCount)
        header[ImageLayout.FrameRecord.variableCount] = variableCount
        header[ImageLayout.FrameRecord.disjointCount] = disjointCount
        header[ImageLayout.FrameRecord.conclusionStart] = Int32(conclusionStart)
        header[ImageLayout.FrameRecord.conclusionCount] = Int32(expression.count)
        frameOffsets.append(statement)
        frameOffsets.append(Int32(frameStart))
    }

    /// Appends the mandatory `$d` pairs (both variables marked with `current`) as local
    /// indices, sorted and without duplicates; returns their count.
    ///
    /// The active pairs are set as bits of a `variableCount` × `variableCount` matrix (row:
    /// the smaller local index), read back row by row, which sorts and deduplicates them; the
    /// matrix is left all zero.
    private mutating func appendDisjointPairs(variableCount: Int, mark current: UInt32) -> Int32 {
        let marks = mark.base, locals = local.base, nodes = disjointNodes.base
        let wordsPerRow = (variableCount + 63) >> 6
        let size = variableCount * wordsPerRow
        if disjointBits.count < size { disjointBits.append(repeating: 0, count: size - disjointBits.count) }
        let bits = disjointBits.base
        var found = 0
        var firstRow = Int.max, lastRow = -1
        var node = disjointTop
        while node >= 0 {
            let n = Int(node) &* 3
            let a = Int(nodes[n]), b = Int(nodes[n &+ 1])
            if marks[a] == current && marks[b] == current {
                let x = Int(locals[a]), y = Int(locals[b])
                let row = min(x, y), column = max(x, y)
                bits[row &* wordsPerRow &+ column &>> 6] |= 1 &<< UInt64(column & 63)
                firstRow = min(firstRow, row)
                lastRow = max(lastRow, row)
                found &+= 1
            }
            node = nodes[n &+ 2]
        }
        guard found > 0 else { return 0 }
        let out = frames.appendSpace(minimum: found * 2).baseAddress!
        var written = 0
        for row in firstRow ... lastRow {
            for w in 0 ..< wordsPerRow {
                let index = row &* wordsPerRow &+ w
                var word = bits[index]
                guard word != 0 else { continue }
                bits[index] = 0
                while word != 0 {
                    out[written] = Int32(row)
                    out[written &+ 1] = Int32(w &<< 6 &+ word.trailingZeroBitCount)
                    written &+= 2
                    word &= word &- 1
                }
            }
        }
        frames.commitAppended(written)
        return Int32(written / 2)
    }

    /// Sorts `count` values in place: for short lists (a frame's hypotheses, most frames' `$d`
    /// pairs) this beats the standard library's sort.
    static func insertionSort<T: Comparable>(_ values: UnsafeMutablePointer<T>, count: Int) {
        guard count > 1 else { return }
        for i in 1 ..< count {
            let value = values[i]
            var j = i
            while j > 0 && values[j - 1] > value {
                values[j] = values[j - 1]
                j -= 1
            }
            values[j] = value
        }
    }

    /// Records the distinct variables of `$e` `statement` (marked as seen with a mark value
    /// of their own).
    private mutating func recordVariables(ofEssential statement: Int32) {
        markValue &+= 1
        let current = markValue
        let s = Int(statement)
        let firstVariable = essentialVariables.count
        statementInfo[s].variablesStart = Int32(firstVariable)
        let start = Int(statementInfo[s].first), count = Int(statementInfo[s].second)
        precondition(start >= 0 && start + count <= essentialExpressions.count)
        let symbols = essentialExpressions.base + start
        let variables = isVariable.base, marks = mark.base
        for i in 0 ..< count {
            let symbol = symbols[i]
            let v = Int(symbol)
            guard variables[v] != 0 && marks[v] != current else { continue }
            marks[v] = current
            essentialVariables.append(symbol)
            essentialLocals.append(-1)
        }
        statementInfo[s].variablesCount = Int32(essentialVariables.count - firstVariable)
    }

    /// The start of a pattern for `$e` `hypothesis` under the current frame's local indices: the
    /// one last written for it if its variables have the same indices, else a new one.
    private mutating func essentialPattern(of hypothesis: Int32, mark current: UInt32) -> Int32 {
        let h = Int(hypothesis)
        let info = statementInfo[h]
        let firstVariable = Int(info.variablesStart), last = firstVariable + Int(info.variablesCount)
        var same = info.patternStart >= 0
        for k in firstVariable ..< last where essentialLocals[k] != local[Int(essentialVariables[k])] {
            same = false
            essentialLocals[k] = local[Int(essentialVariables[k])]
        }
        if same { return info.patternStart }
        let start = Int32(frames.count)
        let from = Int(info.first), count = Int(info.second)
        precondition(from >= 0 && from + count <= essentialExpressions.count)
        appendPattern(essentialExpressions.base + from, count: count, mark: current)
        statementInfo[h].patternStart = start
        return start
    }

    /// Appends a math string with each mandatory variable as `-1 - local`.
    ///
    /// Marks: only variables are ever marked (``buildFrame(for:)`` and
    /// ``recordVariables(ofEssential:)`` check), with a value no earlier frame used.
    private mutating func appendPattern(_ symbols: UnsafePointer<Int32>, count: Int, mark current: UInt32) {
        let out = frames.appendSpace(minimum: count).baseAddress!
        // Pointers in locals: the stores below cannot alias them. Every symbol id is below
        // the symbol count (the parser only sends declared symbols).
        // Only variables are ever marked, so a mark alone tells a mandatory variable.
        let marks = mark.base, locals = local.base
        for i in 0 ..< count {
            let symbol = symbols[i]
            let s = Int(symbol)
            out[i] = marks[s] == current ? -1 - locals[s] : symbol
        }
        frames.commitAppended(count)
    }
}
