/// Which core each worker slot's thread runs on (see ``HostConfiguration/pinsSlotsToCores``).
///
/// A slot keeps the core the kernel started its thread on, unless another slot of the run already
/// has it; then it takes the first free one. Runs in separate processes thus follow the kernel's
/// placement of new threads (the idlest cores) rather than all starting at the first core.
struct CoreAssignment {
    /// Allowed cores no slot has claimed yet, in order.
    private var free: [Int32]

    /// An assignment for `slots` slots, or nil when pinning does not apply: fewer than two slots
    /// (one pair has no other pair to stay apart from), or more slots than allowed cores.
    init?(slots: Int, allowedCores: [Int32]) {
        guard slots >= 2, slots <= allowedCores.count else { return nil }
        free = allowedCores
    }

    /// The core for the next slot: `current` if it is free, else the first free core (nil once
    /// every core is taken, which `init` rules out for the run's own slots).
    mutating func claim(preferring current: Int32) -> Int32? {
        if let index = free.firstIndex(of: current) { return free.remove(at: index) }
        return free.isEmpty ? nil : free.removeFirst()
    }
}
