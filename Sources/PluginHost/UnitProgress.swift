/// A task kind's own count of work done, reported through the ABI's progress extension.
public struct UnitProgress: Sendable, Hashable {
    /// What is counted, plural ("proofs").
    public var unit: String
    /// Units done so far.
    public var done: UInt64
    /// Units in the run (0 when unknown).
    public var total: UInt64

    /// Creates a count.
    public init(unit: String, done: UInt64, total: UInt64) {
        self.unit = unit
        self.done = done
        self.total = total
    }
}
