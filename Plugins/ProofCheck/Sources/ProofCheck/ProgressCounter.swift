import PluginKit

/// Counts verified proofs into the host's progress line.
struct ProgressCounter {
    private let host: MasterHost<ProofCheckKind>

    /// Declares `total` units named `unit` to the host.
    init(host: MasterHost<ProofCheckKind>, unit: String, total: Int) {
        self.host = host
        host.setProgressTotal(total, unit: unit)
    }

    /// Counts `units` more as done.
    func advance(by units: Int) {
        if units > 0 { host.advanceProgress(by: units) }
    }
}
