#if canImport(Glibc)
import Glibc
#endif

/// Warns when a master-side plugin callback holds the host too long.
///
/// Master callbacks run in the host process under the scheduler's lock: while one blocks, no
/// worker is served and the ``Watchdog`` cannot act (its actions need that lock). So this
/// monitor keeps its own small lock: ``MasterPlugin`` notes each call's start (plugin, callback,
/// task) before it and clears it after, and a thread of its own wakes a few times a second to
/// compare (and the call's end checks too, so a call that lasted the threshold is reported even
/// when that thread did not get to run). A call that lasts longer than `threshold` gets one
/// warning per callback and task,
/// e.g. `plugin-host: warning: chaos: request_of_task has held the host for 1.0 s (task 3)`.
final class MasterCallMonitor: @unchecked Sendable {
    /// The call in progress.
    struct Call {
        let plugin: String
        let callback: StaticString
        let task: UInt64?
        let start: UInt64
    }

    /// How long a call may last before it is reported (nanoseconds).
    let threshold: UInt64
    /// How often the thread looks while no call is close to the threshold (nanoseconds).
    private let pollInterval: UInt64
    private let lock = ConditionLock()
    private var current: Call?
    private var warned = Set<String>()
    private var stopped = false
    private var report: (@Sendable (String) -> Void)?

    init(thresholdSeconds: Double = 1, pollSeconds: Double = 0.2) {
        threshold = nanoseconds(fromSeconds: thresholdSeconds)
        pollInterval = nanoseconds(fromSeconds: pollSeconds)
    }

    /// Notes that `callback` of `plugin` starts now; returns the call it interrupts (nil
    /// normally), for ``leave(restoring:)``.
    @inline(__always)
    func enter(plugin: String, callback: StaticString, task: UInt64?) -> Call? {
        let call = Call(plugin: plugin, callback: callback, task: task, start: monotonicNanoseconds())
        lock.lock()
        defer { lock.unlock() }
        let previous = current
        current = call
        return previous
    }

    /// Notes that the call ended (warns now if it lasted the threshold and was not reported).
    @inline(__always)
    func leave(restoring previous: Call?) {
        let now = monotonicNanoseconds()
        lock.lock()
        let late = current.flatMap { call in now &- call.start >= threshold ? unreportedWarning(call, now: now) : nil }
        current = previous
        let report = report
        lock.unlock()
        if let late { report?(late) }
    }

    /// Starts the monitoring thread; `report` receives each warning line (from that thread).
    func start(report: @escaping @Sendable (String) -> Void) {
        lock.withLock { self.report = report }
        startThread { [self] in run(report) }
    }

    /// Stops the thread (a call in progress is no longer watched).
    func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
    }

    private func run(_ report: @Sendable (String) -> Void) {
        while let line = nextWarning() { report(line) }
    }

    /// Waits until a call passes the threshold unreported; nil once stopped.
    private func nextWarning() -> String? {
        lock.withLock {
            while !stopped {
                let now = monotonicNanoseconds()
                var wake = now &+ pollInterval
                if let call = current {
                    if now &- call.start >= threshold {
                        if let line = unreportedWarning(call, now: now) { return line }
                    } else {
                        wake = min(wake, call.start &+ threshold)
                    }
                }
                lock.wait(untilNanoseconds: wake)
            }
            return nil
        }
    }

    /// The warning for `call` unless one was given for its callback and task (lock held).
    private func unreportedWarning(_ call: Call, now: UInt64) -> String? {
        guard report != nil, !stopped,
              warned.insert("\(call.plugin) \(call.callback) \(call.task.map(String.init) ?? "")").inserted else { return nil }
        return Self.warning(call, held: now &- call.start)
    }

    /// The warning line for `call`, held for `held` nanoseconds.
    static func warning(_ call: Call, held: UInt64) -> String {
        let tenths = (held + 50_000_000) / 100_000_000
        return "plugin-host: warning: \(call.plugin): \(call.callback) has held the host for \(tenths / 10).\(tenths % 10) s"
            + (call.task.map { " (task \($0))" } ?? "")
    }
}
