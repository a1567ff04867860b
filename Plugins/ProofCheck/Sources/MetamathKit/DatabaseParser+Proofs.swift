/// Proofs: read after `$=` and resolved to statement references.
extension DatabaseParser {
    /// Reads the proof after `$=` and records the theorem.
    mutating func readProof(of theorem: Int32, label: Token) throws(DatabaseError) {
        let referenceStart = sections.references.count
        let codeStart = sections.codes.count
        var format = ImageLayout.ProofFormat.normal
        func what() -> String { "proof of \"\(label.text)\"" }
        guard var token = try stream.next() else {
            throw error(at: label, "the \(what()) is not terminated by \"$.\"")
        }
        if token.isCharacter(UInt8(ascii: "(")) {
            format = ImageLayout.ProofFormat.compressed
            labels: while true {
                guard let next = try stream.next() else {
                    throw error(at: label, "the \(what()) is not terminated by \"$.\"")
                }
                if next.isCharacter(UInt8(ascii: ")")) { break labels }
                if next.startsWithDollar {
                    if next.keyword == .end {
                        format = ImageLayout.ProofFormat.unclosedLabelList
                        break labels
                    }
                    throw error(at: next, "expected \"$.\" to end the \(what()), found \"\(next.text)\"")
                }
                sections.references.append(resolve(next, theorem: theorem, inLabelList: true))
            }
            if format == ImageLayout.ProofFormat.compressed {
                while true {
                    guard let next = try stream.next() else {
                        throw error(at: label, "the \(what()) is not terminated by \"$.\"")
                    }
                    if next.startsWithDollar {
                        if next.keyword == .end { break }
                        throw error(at: next, "expected \"$.\" to end the \(what()), found \"\(next.text)\"")
                    }
                    sections.codes.append(contentsOf: UnsafeBufferPointer(start: next.start, count: next.count))
                }
            }
        } else {
            while true {
                if token.startsWithDollar {
                    if token.keyword == .end { break }
                    throw error(at: token, "expected \"$.\" to end the \(what()), found \"\(token.text)\"")
                }
                if token.isCharacter(UInt8(ascii: "?")) {
                    sections.references.append(ImageLayout.ProofReference.unknownStep)
                } else {
                    sections.references.append(resolve(token, theorem: theorem, inLabelList: false))
                }
                guard let next = try stream.next() else {
                    throw error(at: label, "the \(what()) is not terminated by \"$.\"")
                }
                token = next
            }
        }
        let referenceCount = sections.references.count - referenceStart
        let codeCount = sections.codes.count - codeStart
        sections.theorems.append(theorem)
        sections.theorems.append(format)
        sections.theorems.append(Int32(referenceStart))
        sections.theorems.append(Int32(referenceCount))
        sections.theorems.append(Int32(codeStart))
        sections.theorems.append(Int32(codeCount))
        sections.theorems.append(disjointTop)
        sections.theorems.append(Int32(clamping: referenceCount + codeCount + Int(statements.count[Int(theorem)])))
    }

    /// The proof reference for a label token of `theorem`'s proof.
    mutating func resolve(_ token: Token, theorem: Int32, inLabelList: Bool) -> Int32 {
        typealias Bad = ImageLayout.BadReferenceKind
        var nameId = names.find(token)
        if nameId >= 0 {
            let statement = bindings[Int(nameId)].statement
            if statement >= 0 {
                if statement == theorem { return badReference(Bad.theoremItself, nameId: nameId, statement: statement) }
                let kind = statements.kind[Int(statement)]
                if kind == Kind.floating || kind == Kind.essential {
                    if !statements.active[Int(statement)] {
                        return badReference(Bad.inactiveHypothesis, nameId: nameId, statement: statement)
                    }
                    if inLabelList && statements.mandatoryFor[Int(statement)] == theorem {
                        return badReference(Bad.mandatoryInLabelList, nameId: nameId, statement: statement)
                    }
                }
                return statement
            }
        } else {
            nameId = internName(token)
        }
        let reference = badReference(Bad.pending, nameId: nameId, statement: -1)
        pendingBadReferences.append((sections.badReferences.count / ImageLayout.BadReferenceRecord.stride - 1, nameId))
        return reference
    }

    /// Records a bad reference; returns its proof reference code.
    mutating func badReference(_ kind: Int32, nameId: Int32, statement: Int32) -> Int32 {
        let index = Int32(sections.badReferences.count / ImageLayout.BadReferenceRecord.stride)
        sections.badReferences.append(kind)
        sections.badReferences.append(names.entries[Int(nameId)].offset)
        sections.badReferences.append(names.entries[Int(nameId)].length)
        sections.badReferences.append(statement)
        return ImageLayout.ProofReference.badReferenceBase - index
    }
}
