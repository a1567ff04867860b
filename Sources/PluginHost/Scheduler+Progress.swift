import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Progress: snapshots for progress displays.
extension Scheduler {
    /// Names of the live workers.
    var workerNamesLocked: [String] { slots.compactMap { $0?.name } }

    /// A snapshot of counts for progress displays.
    var progressLocked: Progress {
        Progress(counts: counts, queued: kinds.reduce(0) { $0 + $1.queue.count },
                 busy: slots.reduce(0) { $0 + ($1?.phase == .busy ? 1 : 0) },
                 workers: slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) },
                 inputExhausted: kinds.allSatisfy { $0.inputExhausted },
                 elapsed: Double(monotonicNanoseconds() - startTime) / 1e9,
                 units: kinds.compactMap { kind in kind.plugin.units.map { (kind.name, $0) } })
    }
}
