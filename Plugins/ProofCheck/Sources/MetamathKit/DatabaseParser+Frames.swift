/// Frames: which hypotheses and `$d` pairs an assertion needs.
extension DatabaseParser {
    /// Computes the frame of assertion `statement` (see ``ImageLayout/FrameRecord``).
    ///
    /// Mandatory hypotheses are the active `$f`s of variables that occur in the assertion or an
    /// active `$e`, and every active `$e`, in order of appearance; mandatory `$d` pairs are the
    /// active pairs of two mandatory variables.
    mutating func buildFrame(for statement: Int32) {
        mark &+= 1
        let current = mark
        frameFloats.removeAll(keepingCapacity: true)
        markVariables(of: statement, with: current)
        for hypothesis in activeEssentials {
            markVariables(of: hypothesis, with: current)
        }
        frameFloats.sort()
        let frameStart = sections.frames.count
        sections.frames.append(contentsOf: repeatElement(0, count: ImageLayout.FrameRecord.headerSize))
        var hypothesisCount: Int32 = 0
        var variableCount: Int32 = 0
        // Merge the mandatory $f's and the active $e's by statement index (order of appearance).
        var f = 0, e = 0
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
        disjointScratch.removeAll(keepingCapacity: true)
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
            disjointScratch.sort()
            var previous: Int64 = -1
            for pair in disjointScratch where pair != previous {
                sections.frames.append(Int32(truncatingIfNeeded: pair >> 32))
                sections.frames.append(Int32(truncatingIfNeeded: pair))
                previous = pair
                disjointCount += 1
            }
        }
        // Patterns: the conclusion, then each $e.
        let conclusionStart = sections.frames.count
        appendPattern(of: statement, mark: current)
        var entry = frameStart + ImageLayout.FrameRecord.headerSize
        for _ in 0 ..< hypothesisCount {
            if sections.frames[entry + 1] < 0 {
                let patternStart = sections.frames.count
                appendPattern(of: sections.frames[entry], mark: current)
                sections.frames[entry + 2] = Int32(patternStart)
                sections.frames[entry + 3] = Int32(sections.frames.count - patternStart)
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

    /// Marks the variables of `statement` and collects the `$f` of each newly marked one.
    mutating func markVariables(of statement: Int32, with current: UInt32) {
        let start = Int(statements.start[Int(statement)])
        for i in start ..< start + Int(statements.count[Int(statement)]) {
            let symbol = Int(sections.expressions[i])
            if symbols.isVariable[symbol] && symbols.mark[symbol] != current {
                symbols.mark[symbol] = current
                frameFloats.append(symbols.float[symbol])
            }
        }
    }

    /// Appends the math string of `statement` with each mandatory variable as `-1 - local`.
    mutating func appendPattern(of statement: Int32, mark current: UInt32) {
        let start = Int(statements.start[Int(statement)])
        for i in start ..< start + Int(statements.count[Int(statement)]) {
            let symbol = sections.expressions[i]
            if symbols.isVariable[Int(symbol)] && symbols.mark[Int(symbol)] == current {
                sections.frames.append(-1 - symbols.local[Int(symbol)])
            } else {
                sections.frames.append(symbol)
            }
        }
    }
}
