import MetamathKit

/// What the master knows about each theorem of the run, by position in the run's theorem list.
///
/// One byte per theorem, with the details of the few incomplete and lost ones beside it, and
/// running counts: the ×10 database has 85,730 theorems, and an array of enums with string
/// payloads cost milliseconds to fill at start and to count at the end. A failed theorem's
/// details are the kind's ``FailureRecord``.
struct OutcomeTable {
    /// A theorem's state.
    enum State: UInt8, CaseIterable {
        /// Not yet answered (or cancelled before an answer).
        case pending
        /// Every step checked.
        case verified
        /// Has `?` steps, the rest consistent.
        case incomplete
        /// The proof is wrong.
        case failed
        /// No worker could answer for it: its task was lost (worker died, expired).
        case lost
    }

    private var states: [State]
    private var counts: [Int]
    private var unknownSteps: [Int: Int] = [:]
    private var lostReasons: [Int: String] = [:]

    /// A table of `count` pending theorems.
    init(count: Int) {
        states = Array(repeating: .pending, count: count)
        counts = Array(repeating: 0, count: State.allCases.count)
        counts[Int(State.pending.rawValue)] = count
    }

    /// The state of the theorem at `position`.
    subscript(position: Int) -> State { states[position] }

    /// How many theorems are in `state`.
    func count(_ state: State) -> Int { counts[Int(state.rawValue)] }

    /// Records a worker's (or the master's) verdict on the theorem at `position`.
    mutating func record(_ result: ProofResult, at position: Int) {
        switch result {
        case .verified: set(.verified, at: position)
        case .incomplete(let unknown):
            set(.incomplete, at: position)
            unknownSteps[position] = unknown
        case .failed: set(.failed, at: position)
        }
    }

    /// Marks every theorem in `range` verified, except those at `exceptions` (which carry their
    /// own verdicts).
    mutating func recordVerified(_ range: Range<Int>, except exceptions: Set<Int>) {
        for position in range where !exceptions.contains(position) { set(.verified, at: position) }
    }

    /// Marks the theorems of `range` that are still pending as lost, for `reason`.
    mutating func recordLost(_ range: Range<Int>, reason: String) {
        for position in range where states[position] == .pending {
            set(.lost, at: position)
            lostReasons[position] = reason
        }
    }

    /// The incomplete theorems with their numbers of `?` steps, in theorem order.
    var incomplete: [(position: Int, unknownSteps: Int)] {
        unknownSteps.keys.sorted().filter { states[$0] == .incomplete }.map { ($0, unknownSteps[$0]!) }
    }

    /// The lost theorems with the reasons, in theorem order.
    var lost: [(position: Int, reason: String)] {
        lostReasons.keys.sorted().filter { states[$0] == .lost }.map { ($0, lostReasons[$0]!) }
    }

    private mutating func set(_ state: State, at position: Int) {
        counts[Int(states[position].rawValue)] -= 1
        counts[Int(state.rawValue)] += 1
        states[position] = state
    }
}
