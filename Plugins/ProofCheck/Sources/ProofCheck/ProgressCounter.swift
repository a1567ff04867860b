import PluginKit

/// Counts checked proofs into the host's progress line, batch by batch, never past a batch's
/// size: feedback from a worker that then dies stays counted, and the batch's retry (or its
/// check in the master) only adds what is left, so the count never exceeds the total.
struct ProgressCounter {
    private let host: MasterHost<ProofCheckKind>
    /// Units counted so far, by batch (its first position), for batches not settled yet.
    private var counted: [Int32: Int] = [:]

    /// Declares `total` units named `unit` to the host.
    init(host: MasterHost<ProofCheckKind>, unit: String, total: Int) {
        self.host = host
        host.setProgressTotal(total, unit: unit)
    }

    /// Counts `units` more of the batch at `first` (of `size` units), up to its size.
    mutating func advance(batch first: Int32, size: Int, by units: Int) {
        let before = counted[first, default: 0]
        let add = max(0, min(units, size - before))
        guard add > 0 else { return }
        counted[first] = before + add
        host.advanceProgress(by: add)
    }

    /// The batch at `first` (of `size` units) becomes two, at `first` and `first + half`: what was
    /// counted of it goes to the halves in order, so their later counts never add to more than `size`.
    mutating func split(batch first: Int32, at half: Int32, size: Int) {
        let before = counted.removeValue(forKey: first) ?? 0
        if before > 0 { counted[first] = min(before, Int(half)) }
        if before > Int(half) { counted[first + half] = min(before - Int(half), size - Int(half)) }
    }

    /// The batch at `first` is finished: counts whatever of it was not counted yet.
    mutating func settle(batch first: Int32, size: Int) {
        let before = counted.removeValue(forKey: first) ?? 0
        if size > before { host.advanceProgress(by: size - before) }
    }
}
