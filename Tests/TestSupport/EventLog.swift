// Every event and worker stderr line of a run under test, and waiting for one without sleeping.
import Foundation
import PluginHost
import PluginProtocol
import Synchronization
import Testing

/// Records every event and worker stderr line of a run; lets a test wait for one.
public final class EventLog: Sendable {
    public enum Entry: Sendable {
        case event(HostEvent)
        case stderr(String)
    }

    private struct Waiter {
        let id: Int
        let predicate: @Sendable (Entry) -> Bool
        let continuation: CheckedContinuation<Entry?, Never>
    }

    private struct State {
        var entries: [Entry] = []
        var waiters: [Waiter] = []
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    /// Each live worker of the run by a pidfd opened when it started (unreaped then: its slot
    /// thread reaps it only after it ends), dropped when it ended: see ``signal(worker:_:)``.
    private let handles = Mutex<[String: ProcessHandle]>([:])
    /// Wakes threads blocked in ``blockingWait(timeout:_:)``.
    private let condition = NSCondition()

    /// An empty log.
    public init() {}

    /// Called from the run's observer (under the scheduler lock: quick, no call back into the run).
    public func record(_ entry: Entry) {
        if case .event(let event) = entry {
            switch event.kind {
            case .workerStarted(let worker, let pid, _):
                let handle = ProcessHandle(pid: pid)
                handles.withLock { $0[worker] = handle }
            case .workerEnded(let worker, _):
                _ = handles.withLock { $0.removeValue(forKey: worker) }
            default:
                break
            }
        }
        state.withLock { state in
            state.entries.append(entry)
            var kept: [Waiter] = []
            for waiter in state.waiters {
                if waiter.predicate(entry) { waiter.continuation.resume(returning: entry) } else { kept.append(waiter) }
            }
            state.waiters = kept
        }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks the calling (dedicated) thread until an entry satisfying `predicate` was recorded,
    /// or `timeout` seconds passed (nil). For reactions that must not wait for the Swift
    /// concurrency pool, which other (CPU-bound) tests may keep busy for seconds.
    public func blockingWait(timeout: Double = 60, _ predicate: (Entry) -> Bool) -> Entry? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let entry = state.withLock({ $0.entries.first(where: predicate) }) { return entry }
            if !condition.wait(until: deadline) {
                return state.withLock { $0.entries.first(where: predicate) }
            }
        }
    }

    /// ``blockingWait(timeout:_:)`` for an event kind.
    public func blockingWaitForEvent(timeout: Double = 60, _ predicate: (HostEvent.Kind) -> Bool) -> HostEvent.Kind? {
        let entry = blockingWait(timeout: timeout) { entry in
            if case .event(let event) = entry { return predicate(event.kind) }
            return false
        }
        if case .event(let event)? = entry { return event.kind }
        return nil
    }

    /// Blocks until `taskStarted` of `task` (attempt `attempt`); returns the worker's name.
    public func blockingWaitForStart(of task: UInt64, attempt: Int) -> String? {
        let kind = blockingWaitForEvent { kind in
            if case .taskStarted(task, _, attempt) = kind { return true }
            return false
        }
        if case .taskStarted(_, let worker, _)? = kind { return worker }
        return nil
    }

    /// Every event so far, in order.
    public var events: [HostEvent] {
        state.withLock { $0.entries.compactMap { if case .event(let event) = $0 { return event } else { return nil } } }
    }

    /// Event kinds so far, in order.
    public var kinds: [HostEvent.Kind] { events.map(\.kind) }

    /// The hosts dropped so far, in order.
    public var droppedHosts: [String] {
        kinds.compactMap { kind in if case .hostDropped(let host, _) = kind { host } else { nil } }
    }

    /// Worker stderr lines so far (as the host forwards them: `[worker] line`).
    public var stderrLines: [String] {
        state.withLock { $0.entries.compactMap { if case .stderr(let line) = $0 { return line } else { return nil } } }
    }

    /// Waits until an entry satisfying `predicate` was recorded (already or later). Records an
    /// issue and returns nil after `timeout` seconds (a safety net; tests never rely on it).
    @discardableResult
    public func waitForEntry(_ what: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
                      _ predicate: @escaping @Sendable (Entry) -> Bool) async -> Entry? {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(timeout))
            self.expire(id)
        }
        let found: Entry? = await withCheckedContinuation { continuation in
            state.withLock { state in
                if let entry = state.entries.first(where: predicate) {
                    continuation.resume(returning: entry)
                } else {
                    state.waiters.append(Waiter(id: id, predicate: predicate, continuation: continuation))
                }
            }
        }
        timer.cancel()
        if found == nil { Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation) }
        return found
    }

    private func expire(_ id: Int) {
        state.withLock { state in
            if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                state.waiters.remove(at: index).continuation.resume(returning: nil)
            }
        }
    }

    /// Waits for an event whose kind satisfies `predicate`.
    @discardableResult
    public func waitFor(_ what: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
                 _ predicate: @escaping @Sendable (HostEvent.Kind) -> Bool) async -> HostEvent? {
        let entry = await waitForEntry(what, timeout: timeout, sourceLocation: sourceLocation) { entry in
            if case .event(let event) = entry { return predicate(event.kind) }
            return false
        }
        if case .event(let event)? = entry { return event }
        return nil
    }

    /// Waits for `taskStarted` of `task` (optionally a given attempt); returns (worker, attempt).
    @discardableResult
    public func waitForStart(of task: UInt64, attempt: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async -> (worker: String, attempt: Int)?
    {
        let event = await waitFor("start of task \(task)" + (attempt.map { " attempt \($0)" } ?? ""),
                                  sourceLocation: sourceLocation) { kind in
            if case .taskStarted(task, _, let got) = kind { return attempt == nil || attempt == got }
            return false
        }
        if case .taskStarted(_, let worker, let got)? = event?.kind { return (worker, got) }
        return nil
    }

    /// Waits for the end of `task`.
    @discardableResult
    public func waitForEnd(of task: UInt64, sourceLocation: SourceLocation = #_sourceLocation) async -> HostEvent? {
        await waitFor("end of task \(task)", sourceLocation: sourceLocation) { kind in
            if case .taskEnded(task, _, _, _) = kind { return true }
            return false
        }
    }

    /// Waits for `workerEnded` of `worker`.
    @discardableResult
    public func waitForWorkerEnd(_ worker: String, sourceLocation: SourceLocation = #_sourceLocation) async -> String? {
        let event = await waitFor("end of worker \(worker)", sourceLocation: sourceLocation) { kind in
            if case .workerEnded(worker, _) = kind { return true }
            return false
        }
        if case .workerEnded(_, let reason)? = event?.kind { return reason }
        return nil
    }

    // MARK: Views

    /// Task ids in the order their first `taskStarted` happened.
    public var startOrder: [UInt64] {
        var seen = Set<UInt64>()
        var order: [UInt64] = []
        for kind in kinds {
            if case .taskStarted(let task, _, _) = kind, seen.insert(task).inserted { order.append(task) }
        }
        return order
    }

    /// Every `taskStarted` as (task, worker, attempt), in order.
    public var starts: [(task: UInt64, worker: String, attempt: Int)] {
        kinds.compactMap { if case .taskStarted(let task, let worker, let attempt) = $0 { return (task, worker, attempt) } else { return nil } }
    }

    /// The worker names of `task`'s attempts, in order.
    public func workers(of task: UInt64) -> [String] { starts.filter { $0.task == task }.map(\.worker) }

    /// Every `workerStarted` as (name, pid), in order.
    public var workersStarted: [(name: String, pid: Int32)] {
        kinds.compactMap { if case .workerStarted(let name, let pid, _) = $0 { return (name, pid) } else { return nil } }
    }

    /// Every `workerEnded` as (name, reason), in order.
    public var workersEnded: [(name: String, reason: String)] {
        kinds.compactMap { if case .workerEnded(let name, let reason) = $0 { return (name, reason) } else { return nil } }
    }

    /// The pid a worker reported in its handshake.
    /// Sends `signal` to the run's worker `worker` if it has not ended: through the pidfd opened
    /// when it started, so a pid that was reaped and reused meanwhile, even by another test's
    /// worker of the same name (`kind:slot:uid` repeats across runs), is never signalled.
    @discardableResult
    public func signal(worker: String, _ signal: Int32 = SIGKILL) -> Bool {
        handles.withLock { $0[worker] }?.send(signal: signal) ?? false
    }

    public func pid(of worker: String) -> Int32? { workersStarted.last { $0.name == worker }?.pid }

    /// Ids of every queued task.
    public var queuedTasks: [UInt64] {
        kinds.compactMap { if case .taskQueued(let task, _, _, _) = $0 { return task } else { return nil } }
    }

    /// `taskRetried` events as (task, reason).
    public var retries: [(task: UInt64, reason: String)] {
        kinds.compactMap { if case .taskRetried(let task, let reason) = $0 { return (task, reason) } else { return nil } }
    }

    /// Index of the first event satisfying `predicate`.
    public func index(where predicate: (HostEvent.Kind) -> Bool) -> Int? { kinds.firstIndex(where: predicate) }
}
