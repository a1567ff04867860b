import Dispatch
import PluginHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The host's signals, taken through dispatch signal sources (no Swift code runs in a signal
/// handler): SIGINT cancels everything; SIGTERM and the `--drain-signal` drain the run (see
/// ``PluginRun/drain(timeout:)``); any of them during a drain stops at once. The process exits
/// with 128 + the first signal. Before the run starts (while the kinds open) there is nothing to
/// cancel or drain: the host says so and exits at once.
final class InterruptionHandler: Sendable {
    private struct State {
        var signal: Int32?
        var started = false
    }

    /// Only kept alive (a released source stops delivering); never touched again.
    nonisolated(unsafe) private let sources: [DispatchSourceSignal]
    private let state = Mutex(State())

    /// The first signal received, if any.
    var received: Int32? { state.withLock { $0.signal } }

    /// Takes SIGINT, SIGTERM and `drainSignals` for `run`; a drain gives running tasks
    /// `drainTimeout` seconds. `console` (nil when quiet) gets one line when a drain begins.
    init(run: PluginRun, drainSignals: [Int32], drainTimeout: Double, console: Console?) {
        var numbers = [SIGINT, SIGTERM]
        for number in drainSignals where !numbers.contains(number) { numbers.append(number) }
        var sources: [DispatchSourceSignal] = []
        for number in numbers {
            Glibc.signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: .global()))
        }
        self.sources = sources
        for (source, number) in zip(sources, numbers) {
            let drains = drainSignals.contains(number)
            source.setEventHandler { @Sendable [weak self] in
                guard let self else { return }
                let (first, started) = self.state.withLock { state -> (Bool, Bool) in
                    defer { if state.signal == nil { state.signal = number } }
                    return (state.signal == nil, state.started)
                }
                if !started {
                    printLine("plugin-host: interrupted by \(signalName(number)) while setting up; no task ran",
                              toStandardError: true)
                    // _exit: the main thread is still inside the plugin; no exit handlers may run under it.
                    _exit(128 + number)
                }
                if first && drains, let running = run.drain(timeout: drainTimeout) {
                    console?.message("plugin-host: \(signalName(number)): draining: no task starts any more; "
                                     + "\(running) running \(running == 1 ? "task gets" : "tasks get") up to \(drainTimeout) s "
                                     + "to finish (a second signal stops at once)")
                } else {
                    if !first { console?.message("plugin-host: \(signalName(number)): stopping at once") }
                    run.cancelAll()
                }
            }
            source.resume()
        }
    }

    /// From now on a signal cancels or drains the run instead of ending the process.
    func runStarting() {
        state.withLock { $0.started = true }
    }
}
