/// Reads a database's statements and checks everything that is not a proof: tokens, scoping,
/// declarations, labels, hypotheses, frames. Produces the image sections; proofs are only
/// delimited (their text is copied to the image) and checked for structural problems: workers
/// tokenize, resolve and check them. The frames (and the `$d` pair stack) are computed by a
/// ``FrameBuilder`` on a second thread, from events this parser sends it.
///
/// Errors are thrown as ``DatabaseError`` naming the file and line of the offending token (for
/// a statement-level problem, the statement's label).
struct DatabaseParser {
    typealias Kind = ImageLayout.StatementKind

    var stream: TokenStream
    var names: NameTable
    var sections = ImageSections()

    /// What a name denotes (labels and math symbols share one namespace), by name id.
    struct NameBinding {
        /// The symbol of this name, or -1.
        var symbol: Int32 = -1
        /// The statement labelled with this name, or -1.
        var statement: Int32 = -1
    }

    /// Per name id (a ``GrowableBuffer``: no uniqueness check on each write, sized up front).
    var bindings = GrowableBuffer<NameBinding>()

    var symbols = SymbolTable()
    /// The math symbols shorter than 8 bytes, by token key.
    var symbolKeys = SymbolKeyTable()
    var statements: StatementTable

    /// Active `$f` and `$e` statements, in order of appearance.
    var activeHypotheses = GrowableBuffer<Int32>()
    var scopes: [Scope] = []
    /// Variables declared inside open `${` blocks (deactivated when their block closes).
    var scopedVariables = GrowableBuffer<Int32>()
    /// Variables whose `$f` was declared inside open blocks.
    var scopedFloats = GrowableBuffer<Int32>()
    /// Top of the persistent `$d` pair stack (-1: empty).
    var disjointTop: Int32 = -1
    /// Nodes of that stack so far (the ``FrameBuilder`` writes them).
    var disjointNodeCount = 0
    /// The math string of the statement being read: the end of the expressions section from
    /// here (a `$d`'s symbols are removed again once read).
    var bodyStart = 0
    /// The ``SymbolTable/Flag`` bits of its symbols, or-ed together.
    var bodyFlags: UInt8 = 0
    /// Active `$e` statements, in order of appearance.
    var activeEssentials = GrowableBuffer<Int32>()
    /// Frames are built on a second thread (``FrameBuilder``) from what this parser writes
    /// here, while it reads on.
    let frameRing = EventRing()
    var frameEvents: EventRing.Writer
    var frameThread: HelperThread?
    let frames = HandOver<FrameBuilder>()

    /// What a `${` saved, to restore at its `$}`.
    struct Scope {
        var hypothesisCount: Int
        var essentialCount: Int
        var disjointTop: Int32
        var variableCount: Int
        var floatCount: Int
        var file: Int32
        var line: Int32
    }

    /// Opens the database's main file.
    init(path: String) throws(DatabaseError) {
        self.init(path: path, main: try TokenStream.readMainFile(path))
    }

    /// The database whose main file at `path` is already read.
    init(path: String, main: FileContents) {
        stream = TokenStream(path: path, main: main)
        frameEvents = EventRing.Writer(ring: frameRing)
        // Room for a typical database of this size, so the big arrays rarely grow (includes
        // may still make them grow).
        let size = max(stream.mainFileSize, 1 << 12)
        names = NameTable(capacity: max(size / 200, 1 << 10))
        bindings = GrowableBuffer(capacity: max(size / 128, 1 << 10))
        sections.expressions = GrowableBuffer(capacity: size / 6)
        sections.proofPieces = GrowableBuffer(capacity: size / 256)
        statements = StatementTable(capacity: size / 64)
        sections.theorems = GrowableBuffer(capacity: size / 128 * ImageLayout.TheoremRecord.stride)
    }

    // MARK: Statements

    /// Reads the whole database.
    mutating func parse() throws(DatabaseError) {
        let ring = frameRing, frames = self.frames, sizeHint = max(stream.mainFileSize, 1 << 12)
        frameThread = HelperThread {
            var reader = EventRing.Reader(ring: ring)
            var builder = FrameBuilder(sizeHint: sizeHint)
            builder.run(&reader)
            frames.value = builder
        }
        guard frameThread!.isRunning else {
            // Without a thread the builder would only start at the end, once the ring is full.
            frameThread = nil
            throw DatabaseError(file: stream.fileName(0), line: 0, message: "cannot start a thread to build the frames")
        }
        do {
            try readStatements()
        } catch {
            _ = endFrames()
            throw error
        }
        finish(frames: endFrames())
    }

    /// Tells the frame builder that the database ends, and waits for its frames.
    mutating func endFrames() -> FrameBuilder {
        frameEvents.put(FrameEvent.end)
        frameEvents.publish()
        frameThread!.join()
        frameThread = nil
        return frames.value!
    }

    /// Reads every statement.
    mutating func readStatements() throws(DatabaseError) {
        while let token = try stream.next() {
            if let keyword = token.keyword {
                switch keyword {
                case .constant: try readDeclaration(token, variables: false)
                case .variable: try readDeclaration(token, variables: true)
                case .disjoint: try readDisjoint(token)
                case .openScope:
                    frameEvents.put(FrameEvent.openScope)
                    scopes.append(Scope(hypothesisCount: activeHypotheses.count, essentialCount: activeEssentials.count, disjointTop: disjointTop,
                                        variableCount: scopedVariables.count, floatCount: scopedFloats.count,
                                        file: token.file, line: token.line))
                case .closeScope: try closeScope(token)
                case .floating, .essential, .axiom, .provable:
                    throw error(at: token, "a \(keyword.spelling) statement needs a label")
                case .closeComment:
                    throw error(at: token, "\"$)\" outside a comment")
                case .closeInclude:
                    throw error(at: token, "\"$]\" without \"$[\"")
                default:
                    throw error(at: token, "unexpected \"\(keyword.spelling)\" (no statement is open)")
                }
            } else if token.startsWithDollar {
                throw error(at: token, "unknown keyword \"\(token.shown)\"")
            } else {
                try readLabeledStatement(label: token)
            }
        }
        if let open = scopes.last {
            throw DatabaseError(file: stream.fileName(open.file), line: Int(open.line),
                                message: "\"${\" is never closed by \"$}\"")
        }
    }

    /// `$c` or `$v`.
    mutating func readDeclaration(_ keyword: Token, variables: Bool) throws(DatabaseError) {
        if !variables && !scopes.isEmpty {
            throw error(at: keyword, "\"$c\" is only allowed in the outermost scope")
        }
        var count = 0
        while true {
            guard let token = try stream.next() else {
                throw error(at: keyword, "\(variables ? "$v" : "$c") statement is not terminated by \"$.\"")
            }
            if token.keyword == .end { break }
            try declareSymbol(token, variable: variables)
            count += 1
        }
        if count == 0 {
            throw error(at: keyword, "\(variables ? "$v" : "$c") statement declares no symbol")
        }
    }

    mutating func declareSymbol(_ token: Token, variable: Bool) throws(DatabaseError) {
        if token.containsDollar {
            if token.startsWithDollar, token.keyword != nil {
                throw error(at: token, "expected \"$.\" to end the \(variable ? "$v" : "$c") statement, found \"\(token.shown)\"")
            }
            throw error(at: token, "math symbol \"\(token.shown)\" may not contain \"$\"")
        }
        let nameId = internName(token)
        let label = bindings[Int(nameId)].statement
        if label >= 0 {
            throw error(at: token, "math symbol \"\(token.shown)\" has the same name as the label declared at \(location(ofStatement: label))")
        }
        let existing = bindings[Int(nameId)].symbol
        if existing >= 0 {
            let e = Int(existing)
            let earlier = "\(stream.fileName(symbols.file[e])):\(symbols.line[e])"
            if symbols.isVariable(existing) != variable {
                throw error(at: token, "\"\(token.shown)\" is declared as a \(variable ? "variable" : "constant") but was declared as a \(variable ? "constant" : "variable") at \(earlier)")
            }
            if !variable {
                throw error(at: token, "constant \"\(token.shown)\" is already declared at \(earlier)")
            }
            if symbols.isActive(existing) {
                throw error(at: token, "variable \"\(token.shown)\" is already declared at \(earlier) and still active")
            }
            symbols.setActive(existing, true)
            symbols.file[e] = token.file
            symbols.line[e] = token.line
            if !scopes.isEmpty { scopedVariables.append(existing) }
            return
        }
        let symbol = symbols.add(nameId: nameId, variable: variable, at: token)
        frameEvents.put(FrameEvent.symbol)
        frameEvents.put(variable ? 1 : 0)
        bindings[Int(nameId)].symbol = symbol
        if token.key != 0 { symbolKeys.insert(token.key, symbol: symbol) }
        if variable && !scopes.isEmpty { scopedVariables.append(symbol) }
    }

    /// `$d x y ... $.`, read token by token (not with ``readMathString(opener:what:allowProof:)``'s
    /// fast loop): a constant or a repeated variable is reported at its own line, and before
    /// a problem later in the statement.
    mutating func readDisjoint(_ keyword: Token) throws(DatabaseError) {
        bodyStart = sections.expressions.count
        defer { sections.expressions.truncate(to: bodyStart) }
        while true {
            guard let token = try stream.next() else {
                throw error(at: keyword, "$d statement is not terminated by \"$.\"")
            }
            if token.keyword == .end { break }
            let symbol = try activeSymbol(token, in: { "$d statement" })
            if !symbols.isVariable(symbol) {
                throw error(at: token, "\"\(token.shown)\" in a $d statement is a constant, not a variable")
            }
            for i in bodyStart ..< sections.expressions.count where sections.expressions[i] == symbol {
                throw error(at: token, "variable \"\(token.shown)\" appears twice in a $d statement")
            }
            sections.expressions.append(symbol)
        }
        let body = sections.expressions.base + bodyStart, count = sections.expressions.count - bodyStart
        if count < 2 {
            throw error(at: keyword, "a $d statement needs at least two variables")
        }
        frameEvents.put(FrameEvent.disjoint)
        frameEvents.put(Int32(count))
        frameEvents.put(body, count: count)
        // The frame builder writes the pairs (the disjoint nodes section); the new top is the
        // last of them.
        disjointNodeCount += count * (count - 1) / 2
        disjointTop = Int32(disjointNodeCount - 1)
    }

    /// `$}`: ends the variables, hypotheses and `$d`s of the innermost block.
    mutating func closeScope(_ token: Token) throws(DatabaseError) {
        guard let scope = scopes.popLast() else {
            throw error(at: token, "\"$}\" without a matching \"${\"")
        }
        frameEvents.put(FrameEvent.closeScope)
        let end = Int32(statements.total)
        for i in scope.hypothesisCount ..< activeHypotheses.count {
            statements[Int(activeHypotheses[i]), ImageLayout.StatementRecord.scopeEnd] = end
        }
        activeHypotheses.truncate(to: scope.hypothesisCount)
        activeEssentials.truncate(to: scope.essentialCount)
        for i in scope.variableCount ..< scopedVariables.count {
            symbols.setActive(scopedVariables[i], false)
        }
        scopedVariables.truncate(to: scope.variableCount)
        for i in scope.floatCount ..< scopedFloats.count {
            symbols.setFloat(scopedFloats[i], -1)
        }
        scopedFloats.truncate(to: scope.floatCount)
        disjointTop = scope.disjointTop
    }

    /// `label $f/$e/$a/$p ...`
    mutating func readLabeledStatement(label: Token) throws(DatabaseError) {
        for i in 0 ..< label.count where !DatabaseParser.isLabelCharacter(label.start[i]) {
            throw error(at: label, "label \"\(label.shown)\" may contain only letters, digits, \"-\", \"_\" and \".\"")
        }
        guard let keywordToken = try stream.next() else {
            throw error(at: label, "label \"\(label.shown)\" is not followed by a statement")
        }
        guard let keyword = keywordToken.keyword,
              keyword == .floating || keyword == .essential || keyword == .axiom || keyword == .provable else {
            throw error(at: keywordToken, "expected $f, $e, $a or $p after label \"\(label.shown)\", found \"\(keywordToken.shown)\"")
        }
        // The label is looked up once its math string is read: its slot in the name table
        // is being loaded meanwhile.
        let labelHash = NameTable.hash(label.start, label.count)
        names.prefetch(hash: labelHash)
        func what() -> String { "\(keyword.spelling) statement \"\(label.shown)\"" }
        let terminator: Keyword
        do {
            terminator = try readMathString(opener: label, what: what, allowProof: keyword == .provable)
        } catch {
            // The label comes first in the file, so do its problems.
            try checkLabelIsFree(label, nameId: names.find(label.start, label.count, hash: labelHash))
            throw error
        }
        let nameId = internName(label, hash: labelHash)
        if bindings[Int(nameId)].statement >= 0 || bindings[Int(nameId)].symbol >= 0 {
            try checkLabelIsFree(label, nameId: nameId)
        }
        let bodyCount = sections.expressions.count - bodyStart
        if bodyCount == 0 {
            throw error(at: label, "\(what()) has no math symbols")
        }
        let typecode = sections.expressions[bodyStart]
        if symbols.isVariable(typecode) {
            throw error(at: label, "the first symbol of \(what()) must be a constant (its typecode), not the variable \"\(symbolText(typecode))\"")
        }
        switch keyword {
        case .floating:
            guard bodyCount == 2 else {
                throw error(at: label, "\(what()) must have exactly two symbols, a typecode and a variable")
            }
            let variable = sections.expressions[bodyStart + 1]
            guard symbols.isVariable(variable) else {
                throw error(at: label, "the second symbol of \(what()) must be a variable, not the constant \"\(symbolText(variable))\"")
            }
            let other = symbols.float[Int(variable)]
            if other >= 0 {
                throw error(at: label, "variable \"\(symbolText(variable))\" already has the active $f \"\(Echo.text(names.text(statements.nameId[Int(other)])))\" (\(location(ofStatement: other)))")
            }
            let statement = addStatement(kind: Kind.floating, nameId: nameId, label: label)
            frameEvents.put(FrameEvent.floating)
            frameEvents.put(statement)
            frameEvents.put(typecode)
            frameEvents.put(variable)
            symbols.setFloat(variable, statement)
            if !scopes.isEmpty { scopedFloats.append(variable) }
            activeHypotheses.append(statement)
        case .essential:
            try requireFloats(what: what, label: label)
            let statement = addStatement(kind: Kind.essential, nameId: nameId, label: label)
            sendMathString(FrameEvent.essential, of: statement)
            activeHypotheses.append(statement)
            activeEssentials.append(statement)
        case .axiom:
            try requireFloats(what: what, label: label)
            let statement = addStatement(kind: Kind.axiom, nameId: nameId, label: label)
            sendMathString(FrameEvent.assertion, of: statement)
        default:
            try requireFloats(what: what, label: label)
            guard terminator == .proof else {
                throw error(at: label, "\(what()) has no proof (\"$=\" is missing)")
            }
            let statement = addStatement(kind: Kind.provable, nameId: nameId, label: label)
            sendMathString(FrameEvent.assertion, of: statement)
            try readProof(of: statement, label: label)
        }
    }

    /// Throws if the name `label` (id `nameId`, or -1 if it is not interned) already labels
    /// a statement or names a math symbol.
    func checkLabelIsFree(_ label: Token, nameId: Int32) throws(DatabaseError) {
        guard nameId >= 0 else { return }
        let earlier = bindings[Int(nameId)].statement
        if earlier >= 0 {
            throw error(at: label, "label \"\(label.shown)\" is already declared at \(location(ofStatement: earlier))")
        }
        let symbol = bindings[Int(nameId)].symbol
        if symbol >= 0 {
            throw error(at: label, "label \"\(label.shown)\" has the same name as the math symbol declared at \(stream.fileName(symbols.file[Int(symbol)])):\(symbols.line[Int(symbol)])")
        }
    }

    /// Reads math symbols up to `$.` (or `$=` when `allowProof`) onto the end of the
    /// expressions section, from ``bodyStart``; or-s their flags into ``bodyFlags``.
    mutating func readMathString(opener: Token, what: () -> String, allowProof: Bool) throws(DatabaseError) -> Keyword {
        bodyStart = sections.expressions.count
        var flags: UInt8 = 0
        defer { bodyFlags = flags }
        while true {
            // Most symbols are read in one tight loop; it stops before any other token.
            let run = stream.readSymbols(into: &sections.expressions, symbols: symbolKeys.lookup,
                                         flags: symbols.flags.base, allowingProof: allowProof)
            flags |= run.flags
            if let terminator = run.terminator { return terminator }
            guard let token = try stream.next() else {
                throw error(at: opener, "\(what()) is not terminated by \"$.\"")
            }
            if token.startsWithDollar, let keyword = token.keyword {
                if keyword == .end { return .end }
                if keyword == .proof && allowProof { return .proof }
            }
            let symbol = try activeSymbol(token, in: what)
            flags |= symbols.flags[Int(symbol)]
            sections.expressions.append(symbol)
        }
    }

    /// The math symbol `token` names, which must be declared and active (a token starting
    /// with `$` here is a keyword out of place in the `what()`).
    func activeSymbol(_ token: Token, in what: () -> String) throws(DatabaseError) -> Int32 {
        var symbol = token.key != 0 ? symbolKeys.find(token.key) : -1
        if symbol < 0 {
            if token.startsWithDollar {
                throw error(at: token, "expected \"$.\" to end the \(what()), found \"\(token.shown)\"")
            }
            let nameId = names.find(token)
            symbol = nameId >= 0 ? bindings[Int(nameId)].symbol : -1
            guard symbol >= 0 else {
                throw error(at: token, "math symbol \"\(token.shown)\" is not declared")
            }
        }
        if symbols.flags[Int(symbol)] & SymbolTable.Flag.inactive != 0 {
            throw error(at: token, "variable \"\(token.shown)\" is not active here (its block has ended)")
        }
        return symbol
    }

    /// Every variable of the statement just read must have an active `$f`.
    func requireFloats(what: () -> String, label: Token) throws(DatabaseError) {
        guard bodyFlags & SymbolTable.Flag.noFloat != 0 else { return }
        for i in bodyStart ..< sections.expressions.count {
            let symbol = sections.expressions[i]
            if symbols.isVariable(symbol) && symbols.float[Int(symbol)] < 0 {
                throw error(at: label, "variable \"\(symbolText(symbol))\" in \(what()) has no active $f statement")
            }
        }
    }

    /// Sends the frame builder an event with the math string just read (from ``bodyStart``).
    mutating func sendMathString(_ event: Int32, of statement: Int32) {
        frameEvents.put(event, statement, Int32(sections.expressions.count - bodyStart))
        frameEvents.put(sections.expressions.base + bodyStart, count: sections.expressions.count - bodyStart)
    }

    /// Adds a statement whose math string was just read (from ``bodyStart``).
    mutating func addStatement(kind: Int32, nameId: Int32, label: Token) -> Int32 {
        let statement = statements.add(kind: kind, nameId: nameId, start: bodyStart,
                                       count: sections.expressions.count - bodyStart, label: label)
        bindings[Int(nameId)].statement = statement
        return statement
    }

    // MARK: Finishing

    /// Writes the remaining sections: frames (from the builder), statements, symbols, names
    /// (with their hash table), files.
    mutating func finish(frames builder: FrameBuilder) {
        sections.frames = builder.frames
        sections.disjointNodes = builder.disjointNodes
        precondition(sections.disjointNodes.count == disjointNodeCount * 3, "the frame builder lost $d pairs")
        let offsets = builder.frameOffsets
        for i in stride(from: 0, to: offsets.count, by: 2) {
            statements[Int(offsets[i]), ImageLayout.StatementRecord.frame] = offsets[i + 1]
        }
        for t in 0 ..< sections.theorems.count / ImageLayout.TheoremRecord.stride {
            let statement = Int(sections.theorems[t * ImageLayout.TheoremRecord.stride + ImageLayout.TheoremRecord.statement])
            statements[statement, ImageLayout.StatementRecord.theorem] = Int32(t)
        }
        statements.finish(names: names)
        sections.statements = statements.records
        for i in 0 ..< symbols.count {
            let nameId = Int(symbols.nameId[i])
            sections.symbols.append(names.entries[nameId].offset)
            sections.symbols.append(names.entries[nameId].length)
            sections.symbols.append(symbols.isVariable(Int32(i)) ? 1 : 0)
        }
        sections.names.reserveCapacity(names.count * ImageLayout.NameRecord.stride)
        for id in 0 ..< names.count {
            sections.names.append(names.entries[id].offset)
            sections.names.append(names.entries[id].length)
            sections.names.append(bindings[id].statement)
        }
        sections.nameSlots = names.slots
        for file in stream.fileNames {
            let (offset, length) = names.appendToPool(file)
            sections.files.append(offset)
            sections.files.append(length)
        }
        sections.strings = names.pool
    }

    /// Lays the image out (see ``ImageSections/build(placement:)``). The source files stay
    /// mapped meanwhile: the proofs are copied from them.
    func buildImage(placement: ImagePlacement, reserved: ImageFileSpace?) throws(DatabaseError) -> ImageStorage {
        try sections.build(placement: placement, reserved: reserved)
    }

    /// A guess at the image's size before the parse (2.2 times the source for the ×10
    /// database, 1.5 times for iset.mm with its comments): space reserved for it early. Pages
    /// reserved beyond the image are zeroed for nothing; pages missing are allocated as the
    /// image is written, at about the same cost, so the guess leans low.
    /// Whether the database has an include: then its main file alone does not determine it.
    var hasInclude: Bool { stream.hasInclude }

    var imageSizeEstimate: Int { stream.mainFileSize / 5 * 11 + (1 << 16) }

    /// The file names, by index.
    var fileNames: [String] { stream.fileNames }

    /// The label of statement `index`.
    func label(ofStatement index: Int32) -> String { names.text(statements.nameId[Int(index)]) }

    // MARK: Helpers

    /// The id of the token's name, extending the per-name tables for a new one.
    mutating func internName(_ token: Token) -> Int32 {
        internName(token, hash: NameTable.hash(token.start, token.count))
    }

    /// Like ``internName(_:)``, with the name's hash already computed.
    mutating func internName(_ token: Token, hash: UInt32) -> Int32 {
        let id = names.intern(token.start, token.count, hash: hash)
        if Int(id) == bindings.count { bindings.append(NameBinding()) }
        return id
    }

    /// The name of `symbol` as messages quote it.
    func symbolText(_ symbol: Int32) -> String { Echo.text(names.text(symbols.nameId[Int(symbol)])) }

    func location(ofStatement statement: Int32) -> String {
        let record = Int(statement)
        return "\(stream.fileName(statements[record, ImageLayout.StatementRecord.file])):\(statements[record, ImageLayout.StatementRecord.line])"
    }

    func error(at token: Token, _ message: String) -> DatabaseError {
        DatabaseError(file: stream.fileName(token.file), line: Int(token.line), message: message)
    }

    @inline(__always)
    static func isLabelCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"),
             UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
