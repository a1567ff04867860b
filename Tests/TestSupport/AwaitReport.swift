// Awaiting a run's report with a safety timeout.
import PluginHost
import Synchronization

/// Resolves once, from whichever side comes first.
private final class OnceFlag: Sendable {
    private let claimed = Mutex(false)
    func claim() -> Bool { claimed.withLock { was in defer { was = true }; return !was } }
}

/// The run's report, or nil after `timeout` seconds.
public func awaitReport(_ run: PluginRun, timeout: Double) async -> RunReport? {
    let once = OnceFlag()
    var tasks: [Task<Void, Never>] = []
    let report: RunReport? = await withCheckedContinuation { continuation in
        tasks.append(Task {
            let report = await run.completion()
            if once.claim() { continuation.resume(returning: report) }
        })
        tasks.append(Task {
            try? await Task.sleep(for: .seconds(timeout))
            if once.claim() { continuation.resume(returning: nil) }
        })
    }
    tasks[1].cancel()
    return report
}
