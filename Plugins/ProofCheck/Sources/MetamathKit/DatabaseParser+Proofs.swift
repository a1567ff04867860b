/// Proofs: the master only delimits them. The text between `$=` and `$.` is copied to the
/// image's proofs section; workers tokenize it and resolve its labels when they verify (see
/// ``ProofMachine``), so that work is split across workers.
extension DatabaseParser {
    /// Reads the proof after `$=` and records the theorem.
    ///
    /// Structural problems stay database errors: a proof not terminated by `$.`, a keyword
    /// that cannot be in a proof, a byte that is not printable ASCII or whitespace. Usually the
    /// proof is found by a byte scan for its `$.`; a proof with a comment or an include, or one
    /// that reaches the end of its file, is read token by token and its tokens are copied
    /// separated by spaces.
    mutating func readProof(of theorem: Int32, label: Token) throws(DatabaseError) {
        let proofStart = sections.proofByteCount
        func what() -> String { "proof of \"\(label.shown)\"" }
        switch try stream.scanProof() {
        case .text(let start, let count):
            sections.addProof(at: start, count: count)
        case .keyword(let token):
            throw error(at: token, "expected \"$.\" to end the \(what()), found \"\(token.shown)\"")
        case .needsTokens:
            let scratchStart = sections.proofScratch.count
            while true {
                guard let token = try stream.next() else {
                    throw error(at: label, "the \(what()) is not terminated by \"$.\"")
                }
                if token.startsWithDollar {
                    if token.keyword == .end { break }
                    throw error(at: token, "expected \"$.\" to end the \(what()), found \"\(token.shown)\"")
                }
                sections.proofScratch.append(UInt8(ascii: " "))
                sections.proofScratch.append(from: token.start, count: token.count)
            }
            sections.addScratchProof(from: scratchStart)
        }
        let proofLength = sections.proofByteCount - proofStart
        sections.theorems.append(theorem)
        sections.theorems.append(Int32(proofStart))
        sections.theorems.append(Int32(proofLength))
        sections.theorems.append(disjointTop)
        sections.theorems.append(Int32(clamping: proofLength + Int(statements[Int(theorem), ImageLayout.StatementRecord.expressionCount])))
    }
}
