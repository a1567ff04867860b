/// The parser's view of the math symbols declared so far, by symbol id (parallel arrays).
struct SymbolTable {
    /// The name id of each symbol.
    var nameId: [Int32] = []
    var isVariable: [Bool] = []
    /// Constants are always active; a variable is active while its `$v`'s block is open.
    var active: [Bool] = []
    /// The active `$f` of a variable, or -1.
    var float: [Int32] = []
    /// Frame-building marks (see ``DatabaseParser/buildFrame(for:)``).
    var mark: [UInt32] = []
    /// Local index of a variable in the frame being built.
    var local: [Int32] = []
    /// Where the symbol was (last) declared.
    var file: [Int32] = []
    var line: [Int32] = []

    /// The number of symbols.
    var count: Int { nameId.count }

    /// Adds an active symbol declared at `token`; returns its id.
    mutating func add(nameId name: Int32, variable: Bool, at token: Token) -> Int32 {
        let symbol = Int32(nameId.count)
        nameId.append(name)
        isVariable.append(variable)
        active.append(true)
        float.append(-1)
        mark.append(0)
        local.append(0)
        file.append(token.file)
        line.append(token.line)
        return symbol
    }
}
