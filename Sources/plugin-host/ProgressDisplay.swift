import Dispatch
import PluginHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A live progress line on stderr: done/total, failures, busy workers, rate, ETA, in human units
/// (`4.50 MB/12.0 MB (1.20 MB/s), 1.20k/3.00k tasks done, ...`). It goes through the ``Console``, so a
/// message clears it first.
final class ProgressDisplay: Sendable {
    private let run: PluginRun
    private let console: Console
    private let running = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    init(run: PluginRun, console: Console) {
        self.run = run
        self.console = console
    }

    func start() {
        running.withLock { $0 = true }
        let started = startDetachedThread { [self] in
            while running.withLock({ $0 }) {
                console.status(Self.line(run.progress))
                usleep(200_000)
            }
            finished.signal()
        }
        // No thread, no progress line; stop() must not wait for one.
        if started != 0 { finished.signal() }
    }

    func stop() {
        running.withLock { $0 = false }
        finished.wait()
        console.clearStatus()
    }

    /// The progress line for `p`.
    static func line(_ p: Progress) -> String {
        let ended = p.counts.total
        let total = ended + p.queued + p.busy
        let rate = p.elapsed > 0 ? Double(ended) / p.elapsed : 0
        var line = ""
        for (_, units) in p.units {
            let unitRate = p.elapsed > 0 ? Double(units.done) / p.elapsed : 0
            line += HumanUnits.progress(done: units.done, total: units.total > 0 ? units.total : nil, unit: units.unit)
                + " (\(HumanUnits.rate(unitRate, unit: units.unit))), "
        }
        line += "\(HumanUnits.count(Double(ended)))/\(HumanUnits.count(Double(total)))\(p.inputExhausted ? "" : "+")"
            + " \(total == 1 ? "task" : "tasks") done"
        let failures = p.counts.failed + p.counts.expired
        if failures > 0 { line += ", \(failures) failed" }
        line += ", \(p.busy)/\(p.workers) workers busy, \(HumanUnits.rate(rate, unit: "tasks"))"
        if p.inputExhausted, rate > 0 {
            line += ", ETA \(HumanUnits.duration(Int(Double(total - ended) / rate)))"
        }
        return line
    }
}
