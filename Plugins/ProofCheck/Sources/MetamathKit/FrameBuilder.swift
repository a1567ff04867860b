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

    // Per statement (dense: every labelled statement has one event).
    /// A `$f`'s typecode and variable; a `$e`'s math string (start and length in
    /// ``essentialExpressions``), its distinct variables (start and count in
    /// ``essentialVariables``) and the pattern last written for it (or -1).
    private var first = GrowableBuffer<Int32>()
    private var second = GrowableBuffer<Int32>()
    private var variablesStart = GrowableBuffer<Int32>()
    private var variablesCount = GrowableBuffer<Int32>()
    private var patternStart = GrowableBuffer<Int32>()

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
    private var disjointScratch = GrowableBuffer<Int64>()

    /// Sized for a database of `sizeHint` bytes (as the parser sizes its tables), so the
    /// arrays rarely grow: each growth copies into fresh memory the kernel must zero.
    init(sizeHint: Int) {
        frames = GrowableBuffer(capacity: sizeHint / 4)
        frameOffsets = GrowableBuffer(capacity: sizeHint / 128)
        disjointNodes = GrowableBuffer(capacity: sizeHint / 64)
        let statements = sizeHint / 64
        first = GrowableBuffer(capacity: statements)
        second = GrowableBuffer(capacity: statements)
        variablesStart = GrowableBuffer(capacity: statements)
        variablesCount = GrowableBuffer(capacity: statements)
        patternStart = GrowableBuffer(capacity: statements)
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
                let statement = reader.take(), count = Int(reader.take())
                let start = essentialExpressions.count
                reader.take(into: essentialExpressions.appendSpace(minimum: count).baseAddress!, count: count)
                essentialExpressions.commitAppended(count)
                addStatement(statement, Int32(start), Int32(count))
                recordVariables(ofEssential: statement)
                activeEssentials.append(statement)
            case FrameEvent.disjoint:
                let count = Int(reader.take())
                readExpression(&reader, count: count)
                disjointNodes.reserve(count * (count - 1) / 2 * 3)
                for i in 0 ..< count {
                    for j in i + 1 ..< count {
                        let node = Int32(disjointNodes.count / 3)
                        disjointNodes.append(min(expression[i], expression[j]))
                        disjointNodes.append(max(expression[i], expression[j]))
                        disjointNodes.append(disjointTop)
                        disjointTop = node
                    }
                }
            case FrameEvent.assertion:
                let statement = reader.take(), count = Int(reader.take())
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
        precondition(Int(statement) == first.count, "frame events out of order")
        first.append(a)
        second.append(b)
        variablesStart.append(0)
        variablesCount.append(0)
        patternStart.append(-1)
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
        frameFloats.removeAll()
        for i in 0 ..< expression.count { mark(expression[i], with: current) }
        for i in 0 ..< activeEssentials.count {
            let hypothesis = Int(activeEssentials[i])
            let first = Int(variablesStart[hypothesis])
            for k in first ..< first + Int(variablesCount[hypothesis]) {
                mark(essentialVariables[k], with: current)
            }
        }
        FrameBuilder.insertionSort(frameFloats.base, count: frameFloats.count)
        let frameStart = frames.count
        frames.append(repeating: 0, count: ImageLayout.FrameRecord.headerSize)
        var hypothesisCount: Int32 = 0
        var variableCount: Int32 = 0
        // Merge the mandatory $f's and the active $e's by statement index (order of appearance).
        var f = 0, e = 0
        frames.reserve((frameFloats.count + activeEssentials.count) * ImageLayout.FrameRecord.hypothesisStride)
        while f < frameFloats.count || e < activeEssentials.count {
            if e == activeEssentials.count || (f < frameFloats.count && frameFloats[f] < activeEssentials[e]) {
                let hypothesis = frameFloats[f]
                f += 1
                local[Int(second[Int(hypothesis)])] = variableCount
                frames.append(hypothesis)
                frames.append(first[Int(hypothesis)])
                frames.append(variableCount)
                frames.append(0)
                variableCount += 1
            } else {
                let hypothesis = activeEssentials[e]
                e += 1
                frames.append(hypothesis)
                frames.append(-1)
                frames.append(0)
                frames.append(0)
            }
            hypothesisCount += 1
        }
        // Mandatory $d pairs (both variables mandatory), as local indices, without duplicates.
        disjointScratch.removeAll()
        var node = disjointTop
        while node >= 0 {
            let n = Int(node) * 3
            let a = Int(disjointNodes[n]), b = Int(disjointNodes[n + 1])
            if mark[a] == current && mark[b] == current {
                let x = Int64(local[a]), y = Int64(local[b])
                disjointScratch.append(min(x, y) << 32 | max(x, y))
            }
            node = disjointNodes[n + 2]
        }
        var disjointCount: Int32 = 0
        if !disjointScratch.isEmpty {
            if disjointScratch.count <= 16 {
                FrameBuilder.insertionSort(disjointScratch.base, count: disjointScratch.count)
            } else {
                var pairs = UnsafeMutableBufferPointer(start: disjointScratch.base, count: disjointScratch.count)
                pairs.sort()
            }
            var previous: Int64 = -1
            for i in 0 ..< disjointScratch.count where disjointScratch[i] != previous {
                let pair = disjointScratch[i]
                frames.append(Int32(truncatingIfNeeded: pair >> 32))
                frames.append(Int32(truncatingIfNeeded: pair))
                previous = pair
                disjointCount += 1
            }
        }
        // Patterns: the conclusion, then each $e (unless an earlier frame's can be reused).
        let conclusionStart = frames.count
        expression.withUnsafeBufferPointer { appendPattern($0.baseAddress!, count: $0.count, mark: current) }
        var entry = frameStart + ImageLayout.FrameRecord.headerSize
        for _ in 0 ..< hypothesisCount {
            if frames[entry + 1] < 0 {
                let hypothesis = frames[entry]
                frames[entry + 2] = essentialPattern(of: hypothesis, mark: current)
                frames[entry + 3] = second[Int(hypothesis)]
            }
            entry += ImageLayout.FrameRecord.hypothesisStride
        }
        frames[frameStart + ImageLayout.FrameRecord.hypothesisCount] = hypothesisCount
        frames[frameStart + ImageLayout.FrameRecord.variableCount] = variableCount
        frames[frameStart + ImageLayout.FrameRecord.disjointCount] = disjointCount
        frames[frameStart + ImageLayout.FrameRecord.conclusionStart] = Int32(conclusionStart)
        frames[frameStart + ImageLayout.FrameRecord.conclusionCount] = Int32(expression.count)
        frameOffsets.append(statement)
        frameOffsets.append(Int32(frameStart))
    }

    /// Marks `symbol` if it is a variable not marked yet, and collects its `$f`.
    @inline(__always)
    private mutating func mark(_ symbol: Int32, with current: UInt32) {
        let s = Int(symbol)
        if isVariable[s] != 0 && mark[s] != current {
            mark[s] = current
            frameFloats.append(float[s])
        }
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

    /// Records the distinct variables of `$e` `statement`.
    private mutating func recordVariables(ofEssential statement: Int32) {
        let s = Int(statement)
        let firstVariable = essentialVariables.count
        variablesStart[s] = Int32(firstVariable)
        let start = Int(first[s])
        for i in start ..< start + Int(second[s]) {
            let symbol = essentialExpressions[i]
            guard isVariable[Int(symbol)] != 0 else { continue }
            var seen = false
            for k in firstVariable ..< essentialVariables.count where essentialVariables[k] == symbol {
                seen = true
                break
            }
            if !seen {
                essentialVariables.append(symbol)
                essentialLocals.append(-1)
            }
        }
        variablesCount[s] = Int32(essentialVariables.count - firstVariable)
    }

    /// The start of a pattern for `$e` `hypothesis` under the current frame's local indices: the
    /// one last written for it if its variables have the same indices, else a new one.
    private mutating func essentialPattern(of hypothesis: Int32, mark current: UInt32) -> Int32 {
        let h = Int(hypothesis)
        let firstVariable = Int(variablesStart[h]), last = firstVariable + Int(variablesCount[h])
        var same = patternStart[h] >= 0
        for k in firstVariable ..< last where essentialLocals[k] != local[Int(essentialVariables[k])] {
            same = false
            essentialLocals[k] = local[Int(essentialVariables[k])]
        }
        if same { return patternStart[h] }
        let start = Int32(frames.count)
        let from = Int(first[h]), count = Int(second[h])
        precondition(from >= 0 && from + count <= essentialExpressions.count)
        appendPattern(essentialExpressions.base + from, count: count, mark: current)
        patternStart[h] = start
        return start
    }

    /// Appends a math string with each mandatory variable as `-1 - local`.
    private mutating func appendPattern(_ symbols: UnsafePointer<Int32>, count: Int, mark current: UInt32) {
        let out = frames.appendSpace(minimum: count).baseAddress!
        // Pointers in locals: the stores below cannot alias them. Every symbol id is below
        // the symbol count (the parser only sends declared symbols).
        let variables = isVariable.base, marks = mark.base, locals = local.base
        for i in 0 ..< count {
            let symbol = symbols[i]
            let s = Int(symbol)
            out[i] = variables[s] != 0 && marks[s] == current ? -1 - locals[s] : symbol
        }
        frames.commitAppended(count)
    }
}
