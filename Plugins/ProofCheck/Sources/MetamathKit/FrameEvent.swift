/// What the parser tells the ``FrameBuilder`` (the first word of each event in the
/// ``EventRing``; the words that follow are listed per case).
enum FrameEvent {
    /// A new math symbol (ids are dense, in order): whether it is a variable (0 or 1).
    static let symbol: Int32 = 1
    /// `${`.
    static let openScope: Int32 = 2
    /// `$}`.
    static let closeScope: Int32 = 3
    /// A `$f`: statement, typecode, variable.
    static let floating: Int32 = 4
    /// A `$e`: statement, symbol count, symbols.
    static let essential: Int32 = 5
    /// A `$d`: variable count, variables.
    static let disjoint: Int32 = 6
    /// A `$a` or `$p`: statement, symbol count, symbols.
    static let assertion: Int32 = 7
    /// The end of the database (or of a parse that failed).
    static let end: Int32 = 0
}
