/// The parser's view of the math symbols declared so far, by symbol id (parallel arrays).
struct SymbolTable {
    /// Bits of ``flags``: what a math string needs to know about a symbol in one load.
    enum Flag {
        /// The symbol is a variable.
        static let variable: UInt8 = 1
        /// A variable whose `$v`'s block has ended.
        static let inactive: UInt8 = 2
        /// A variable without an active `$f`.
        static let noFloat: UInt8 = 4
    }

    /// The name id of each symbol.
    var nameId: [Int32] = []
    /// ``Flag`` bits.
    private(set) var flags = GrowableBuffer<UInt8>()
    /// The active `$f` of a variable, or -1.
    private(set) var float = GrowableBuffer<Int32>()
    /// Where the symbol was (last) declared.
    var file: [Int32] = []
    var line: [Int32] = []

    /// The number of symbols.
    var count: Int { nameId.count }

    @inline(__always)
    func isVariable(_ symbol: Int32) -> Bool { flags[Int(symbol)] & Flag.variable != 0 }

    /// Constants are always active; a variable is active while its `$v`'s block is open.
    @inline(__always)
    func isActive(_ symbol: Int32) -> Bool { flags[Int(symbol)] & Flag.inactive == 0 }

    /// Activates or deactivates a variable.
    mutating func setActive(_ symbol: Int32, _ active: Bool) {
        let i = Int(symbol)
        flags[i] = active ? flags[i] & ~Flag.inactive : flags[i] | Flag.inactive
    }

    /// Sets the active `$f` of a variable (-1: none).
    mutating func setFloat(_ symbol: Int32, _ statement: Int32) {
        let i = Int(symbol)
        float[i] = statement
        flags[i] = statement >= 0 ? flags[i] & ~Flag.noFloat : flags[i] | Flag.noFloat
    }

    /// Adds an active symbol declared at `token`; returns its id.
    mutating func add(nameId name: Int32, variable: Bool, at token: Token) -> Int32 {
        let symbol = Int32(nameId.count)
        nameId.append(name)
        flags.append(variable ? Flag.variable | Flag.noFloat : 0)
        float.append(-1)
        file.append(token.file)
        line.append(token.line)
        return symbol
    }
}
