import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Warns when a master-side plugin callback holds the host too long.
///
/// Master callbacks run in the host process under the scheduler's lock: while one blocks, no
/// worker is served and the ``Watchdog`` cannot act (its actions need that lock). So this
/// monitor needs no lock on the call path: since master calls are serialised by the scheduler's
/// lock, ``MasterPlugin`` publishes each call (plugin, callback, task, start) in a few atomics
/// before it and clears it after, and a thread of its own wakes a few times a second to compare
/// (the call's end checks too, so a call that lasted the threshold is reported even when that
/// thread did not get to run). A call that lasts longer than the threshold gets one warning per
/// callback and task, e.g. `plugin-host: warning: chaos: request_of_task has held the host for
/// 1.0 s (task 3)`.
final class MasterCallMonitor: @unchecked Sendable {
    /// A call, as a warning names it.
    struct Call {
        let plugin: String
        let callback: String
        let task: UInt64?
        let start: UInt64
    }

    /// The published call a nested call replaces, for ``leave(restoring:)``. Plain values.
    struct Saved {
        fileprivate let start: UInt64
        fileprivate let plugin: UInt
        fileprivate let callback: UInt
        fileprivate let task: UInt64
    }

    /// How long a call may last before it is reported (nanoseconds).
    let threshold: UInt64
    /// How often the thread looks while no call is close to the threshold (nanoseconds).
    private let pollInterval: UInt64
    // The call in progress, written only by the thread making it (master calls are serialised),
    // read by the monitor thread: its start (0: none), the addresses of its plugin's and its
    // callback's C strings (both live as long as the run), its task (UInt64.max: none), and a
    // counter bumped at every change so that the reader can tell a consistent snapshot.
    private let start = Atomic<UInt64>(0)
    private let plugin = Atomic<UInt>(0)
    private let callback = Atomic<UInt>(0)
    private let task = Atomic<UInt64>(.max)
    private let changes = Atomic<UInt64>(0)
    /// Guards the fields below (the rare paths only: reporting, the thread's sleep).
    private let lock = ConditionLock()
    private var warned = Set<String>()
    private var stopped = false
    private var report: (@Sendable (String) -> Void)?

    init(thresholdSeconds: Double = 1, pollSeconds: Double = 0.2) {
        threshold = nanoseconds(fromSeconds: thresholdSeconds)
        pollInterval = nanoseconds(fromSeconds: pollSeconds)
    }

    /// Notes that `callback` of the plugin named by the C string `plugin` (which must outlive the
    /// run) starts now; returns what it replaces, for ``leave(restoring:)``.
    @inline(__always)
    func enter(plugin name: UnsafePointer<CChar>, callback name2: StaticString, task id: UInt64?) -> Saved {
        let saved = Saved(start: start.load(ordering: .relaxed), plugin: plugin.load(ordering: .relaxed),
                          callback: callback.load(ordering: .relaxed), task: task.load(ordering: .relaxed))
        publish(start: monotonicNanoseconds(), plugin: UInt(bitPattern: name),
                callback: UInt(bitPattern: name2.utf8Start), task: id ?? .max)
        return saved
    }

    /// Notes that the call ended (warns now if it lasted the threshold and was not reported),
    /// and puts back the call it had replaced.
    @inline(__always)
    func leave(restoring saved: Saved) {
        let began = start.load(ordering: .relaxed)
        let now = monotonicNanoseconds()
        if now - began >= threshold, let call = snapshot() {
            warnOnce(call, now: now)
        }
        publish(start: saved.start, plugin: saved.plugin, callback: saved.callback, task: saved.task)
    }

    private func publish(start newStart: UInt64, plugin newPlugin: UInt, callback newCallback: UInt, task newTask: UInt64) {
        changes.add(1, ordering: .sequentiallyConsistent)
        plugin.store(newPlugin, ordering: .sequentiallyConsistent)
        callback.store(newCallback, ordering: .sequentiallyConsistent)
        task.store(newTask, ordering: .sequentiallyConsistent)
        start.store(newStart, ordering: .sequentiallyConsistent)
        changes.add(1, ordering: .sequentiallyConsistent)
    }

    /// The call in progress, read consistently (nil when there is none).
    private func snapshot() -> Call? {
        while true {
            let before = changes.load(ordering: .sequentiallyConsistent)
            let began = start.load(ordering: .sequentiallyConsistent)
            let pluginAddress = plugin.load(ordering: .sequentiallyConsistent)
            let callbackAddress = callback.load(ordering: .sequentiallyConsistent)
            let id = task.load(ordering: .sequentiallyConsistent)
            // Odd while a change is being published; changed if one happened meanwhile.
            guard before % 2 == 0, changes.load(ordering: .sequentiallyConsistent) == before else { continue }
            guard began != 0, let pluginName = UnsafePointer<CChar>(bitPattern: pluginAddress),
                  let callbackName = UnsafePointer<CChar>(bitPattern: callbackAddress) else { return nil }
            return Call(plugin: String(cString: pluginName), callback: String(cString: callbackName),
                        task: id == .max ? nil : id, start: began)
        }
    }

    /// Starts the monitoring thread; `report` receives each warning line.
    func start(report: @escaping @Sendable (String) -> Void) {
        lock.withLock { self.report = report }
        startThread { [self] in run() }
    }

    /// Stops the thread (a call in progress is no longer watched).
    func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
    }

    private func run() {
        while true {
            let call = snapshot()
            // Read after the snapshot: a call published meanwhile must not look older than now.
            let now = monotonicNanoseconds()
            var wake = now &+ pollInterval
            if let call {
                if now - call.start >= threshold {
                    warnOnce(call, now: now)
                } else {
                    wake = min(wake, call.start &+ threshold)
                }
            }
            let done: Bool = lock.withLock {
                if !stopped { lock.wait(untilNanoseconds: wake) }
                return stopped
            }
            if done { return }
        }
    }

    /// Reports `call` unless it was reported for its callback and task already.
    private func warnOnce(_ call: Call, now: UInt64) {
        guard now >= call.start else { return }  // (A call that began after `now` was read.)
        let line: String? = lock.withLock {
            guard report != nil, !stopped,
                  warned.insert("\(call.plugin) \(call.callback) \(call.task.map(String.init) ?? "")").inserted else { return nil }
            return Self.warning(call, held: now &- call.start)
        }
        if let line, let report = lock.withLock({ report }) { report(line) }
    }

    /// The warning line for `call`, held for `held` nanoseconds.
    static func warning(_ call: Call, held: UInt64) -> String {
        let tenths = (held + 50_000_000) / 100_000_000
        return "plugin-host: warning: \(call.plugin): \(call.callback) has held the host for \(tenths / 10).\(tenths % 10) s"
            + (call.task.map { " (task \($0))" } ?? "")
    }
}
