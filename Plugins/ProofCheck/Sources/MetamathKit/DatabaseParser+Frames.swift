/// Frames: which hypotheses and `$d` pairs an assertion needs.
extension DatabaseParser {
    /// Computes the frame of assertion `statement` (see ``ImageLayout/FrameRecord``).
    ///
    /// Mandatory hypotheses are the active `$f`s of variables that occur in the assertion or an
    /// active `$e`, and every active `$e`, in order of appearance; mandatory `$d` pairs are the
    /// active pairs of two mandatory variables. A `$e`'s pattern is shared with the previous
    /// frame that wrote it when both number its variables the same way.
    mutating func buildFrame(for statement: Int32) {
        mark &+= 1
        let current = mark
        frameFloats.removeAll()
        markVariables(of: statement, with: current)
        for i in 0 ..< activeEssentials.count {
            let hypothesis = Int(activeEssentials[i])
            let first = Int(statements.variablesStart[hypothesis])
            for k in first ..< first + Int(statements.variablesCount[hypothesis]) {
                mark(essentialVariables[k], with: current)
            }
        }
        sortFrameFloats()
        let frameStart = sections.frames.count
        sections.frames.append(repeating: 0, count: ImageLayout.FrameRecord.headerSize)
        var hypothesisCount: Int32 = 0
        var variableCount: Int32 = 0
        // Merge the mandatory $f's and the active $e's by statement index (order of appearance).
        var f = 0, e = 0
        sections.frames.reserve((frameFloats.count + activeEssentials.count) * ImageLayout.FrameRecord.hypothesisStride)
        while f < frameFloats.count || e < activeEssentials.count {
            if e == activeEssentials.count || (f < frameFloats.count && frameFloats[f] < activeEssentials[e]) {
                let hypothesis = frameFloats[f]
                f += 1
                let start = Int(statements.start[Int(hypothesis)])
                let variable = sections.expressions[start + 1]
                symbols.local[Int(variable)] = variableCount
                sections.frames.append(hypothesis)
                sections.frames.append(sections.expressions[start])
                sections.frames.append(variableCount)
                sections.frames.append(0)
                variableCount += 1
            } else {
                let hypothesis = activeEssentials[e]
                e += 1
                sections.frames.append(hypothesis)
                sections.frames.append(-1)
                sections.frames.append(0)
                sections.frames.append(0)
            }
            hypothesisCount += 1
        }
        // Mandatory $d pairs (both variables mandatory), as local indices, without duplicates.
        disjointScratch.removeAll()
        var node = disjointTop
        while node >= 0 {
            let n = Int(node) * 3
            let a = Int(sections.disjointNodes[n]), b = Int(sections.disjointNodes[n + 1])
            if symbols.mark[a] == current && symbols.mark[b] == current {
                let x = Int64(symbols.local[a]), y = Int64(symbols.local[b])
                disjointScratch.append(min(x, y) << 32 | max(x, y))
            }
            node = sections.disjointNodes[n + 2]
        }
        var disjointCount: Int32 = 0
        if !disjointScratch.isEmpty {
            if disjointScratch.count <= 16 {
                DatabaseParser.insertionSort(disjointScratch.base, count: disjointScratch.count)
            } else {
                var pairs = UnsafeMutableBufferPointer(start: disjointScratch.base, count: disjointScratch.count)
                pairs.sort()
            }
            var previous: Int64 = -1
            for i in 0 ..< disjointScratch.count where disjointScratch[i] != previous {
                let pair = disjointScratch[i]
                sections.frames.append(Int32(truncatingIfNeeded: pair >> 32))
                sections.frames.append(Int32(truncatingIfNeeded: pair))
                previous = pair
                disjointCount += 1
            }
        }
        // Patterns: the conclusion, then each $e (unless an earlier frame's can be reused).
        let conclusionStart = sections.frames.count
        appendPattern(of: statement, mark: current)
        var entry = frameStart + ImageLayout.FrameRecord.headerSize
        for _ in 0 ..< hypothesisCount {
            if sections.frames[entry + 1] < 0 {
                let hypothesis = sections.frames[entry]
                sections.frames[entry + 2] = essentialPattern(of: hypothesis, mark: current)
                sections.frames[entry + 3] = statements.count[Int(hypothesis)]
            }
            entry += ImageLayout.FrameRecord.hypothesisStride
        }
        sections.frames[frameStart + ImageLayout.FrameRecord.hypothesisCount] = hypothesisCount
        sections.frames[frameStart + ImageLayout.FrameRecord.variableCount] = variableCount
        sections.frames[frameStart + ImageLayout.FrameRecord.disjointCount] = disjointCount
        sections.frames[frameStart + ImageLayout.FrameRecord.conclusionStart] = Int32(conclusionStart)
        sections.frames[frameStart + ImageLayout.FrameRecord.conclusionCount] = statements.count[Int(statement)]
        statements.frame[Int(statement)] = Int32(frameStart)
    }

    /// Marks `symbol` if it is a variable not marked yet, and collects its `$f`.
    @inline(__always)
    mutating func mark(_ symbol: Int32, with current: UInt32) {
        let s = Int(symbol)
        if symbols.flags[s] & SymbolTable.Flag.variable != 0 && symbols.mark[s] != current {
            symbols.mark[s] = current
            frameFloats.append(symbols.float[s])
        }
    }

    /// Marks the variables of `statement` and collects the `$f` of each newly marked one.
    mutating func markVariables(of statement: Int32, with current: UInt32) {
        let start = Int(statements.start[Int(statement)])
        for i in start ..< start + Int(statements.count[Int(statement)]) {
            mark(sections.expressions[i], with: current)
        }
    }

    /// Sorts ``frameFloats``.
    mutating func sortFrameFloats() {
        DatabaseParser.insertionSort(frameFloats.base, count: frameFloats.count)
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

    /// Records the distinct variables of the `$e` just read (its math string is the body).
    mutating func recordVariables(ofEssential statement: Int32) {
        let first = essentialVariables.count
        statements.variablesStart[Int(statement)] = Int32(first)
        if bodyFlags & SymbolTable.Flag.variable != 0 {
            for i in bodyStart ..< sections.expressions.count {
                let symbol = sections.expressions[i]
                guard symbols.isVariable(symbol) else { continue }
                var seen = false
                for k in first ..< essentialVariables.count where essentialVariables[k] == symbol {
                    seen = true
                    break
                }
                if !seen {
                    essentialVariables.append(symbol)
                    essentialLocals.append(-1)
                }
            }
        }
        statements.variablesCount[Int(statement)] = Int32(essentialVariables.count - first)
    }

    /// The start of a pattern for `$e` `hypothesis` under the current frame's local indices: the
    /// one last written for it if its variables have the same indices, else a new one.
    mutating func essentialPattern(of hypothesis: Int32, mark current: UInt32) -> Int32 {
        let h = Int(hypothesis)
        let first = Int(statements.variablesStart[h]), last = first + Int(statements.variablesCount[h])
        var same = statements.patternStart[h] >= 0
        for k in first ..< last where essentialLocals[k] != symbols.local[Int(essentialVariables[k])] {
            same = false
            essentialLocals[k] = symbols.local[Int(essentialVariables[k])]
        }
        if same { return statements.patternStart[h] }
        let start = Int32(sections.frames.count)
        appendPattern(of: hypothesis, mark: current)
        statements.patternStart[h] = start
        return start
    }

    /// Appends the math string of `statement` with each mandatory variable as `-1 - local`.
    mutating func appendPattern(of statement: Int32, mark current: UInt32) {
        let start = Int(statements.start[Int(statement)])
        let count = Int(statements.count[Int(statement)])
        sections.frames.reserve(count)
        for i in start ..< start + count {
            let symbol = sections.expressions[i]
            let s = Int(symbol)
            if symbols.flags[s] & SymbolTable.Flag.variable != 0 && symbols.mark[s] == current {
                sections.frames.append(-1 - symbols.local[s])
            } else {
                sections.frames.append(symbol)
            }
        }
    }
}
