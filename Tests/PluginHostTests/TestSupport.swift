// Shared helpers for the engine tests: loading the chaos plugin, recording events, waiting for an
// event without sleeping, awaiting a run with a safety timeout, and the invariants every run must
// satisfy (each task ends exactly once, counts add up, every worker process is gone at the end).
import Foundation
import PluginHost
import PluginProtocol
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Locations

enum TestPaths {
    /// The directory holding the test executable, `plugin-worker`, `plugin-host` and the plugins.
    static var binDirectory: String { PluginCatalog.executableDirectory }
    static var chaosPlugin: String { binDirectory + "/libChaosPlugin.so" }
    static var pluginHost: String { binDirectory + "/plugin-host" }
    static var pluginWorker: String { binDirectory + "/plugin-worker" }
}

/// The chaos plugin, loaded once.
enum Chaos {
    static let library: PluginLibrary = {
        do { return try PluginLibrary(path: TestPaths.chaosPlugin) } catch {
            fatalError("cannot load \(TestPaths.chaosPlugin): \(error)")
        }
    }()
}

// MARK: - Configuration

extension HostConfiguration {
    /// A test configuration: results collected, a short kill grace so cancellations are quick.
    static func test(jobs: Int = 2, timeout: Double? = nil, retries: Int = 1, maxJobsPerWorker: Int? = nil,
                     maxWorkerRSSBytes: Int? = nil, killGracePeriod: Double = 0.2,
                     workerExecutable: String? = nil) -> HostConfiguration {
        var configuration = HostConfiguration(jobs: jobs, timeout: timeout, retries: retries,
                                              maxJobsPerWorker: maxJobsPerWorker, maxWorkerRSSBytes: maxWorkerRSSBytes,
                                              killGracePeriod: killGracePeriod, collectResults: true)
        if let workerExecutable { configuration.workerExecutable = workerExecutable }
        return configuration
    }
}

// MARK: - Event log

/// Records every event and worker stderr line of a run; lets a test wait for one.
final class EventLog: Sendable {
    enum Entry: Sendable {
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
    /// Wakes threads blocked in ``blockingWait(timeout:_:)``.
    private let condition = NSCondition()

    /// Called from the run's observer (under the scheduler lock: quick, no call back into the run).
    func record(_ entry: Entry) {
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
    func blockingWait(timeout: Double = 60, _ predicate: (Entry) -> Bool) -> Entry? {
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
    func blockingWaitForEvent(timeout: Double = 60, _ predicate: (HostEvent.Kind) -> Bool) -> HostEvent.Kind? {
        let entry = blockingWait(timeout: timeout) { entry in
            if case .event(let event) = entry { return predicate(event.kind) }
            return false
        }
        if case .event(let event)? = entry { return event.kind }
        return nil
    }

    /// Blocks until `taskStarted` of `task` (attempt `attempt`); returns the worker's name.
    func blockingWaitForStart(of task: UInt64, attempt: Int) -> String? {
        let kind = blockingWaitForEvent { kind in
            if case .taskStarted(task, _, attempt) = kind { return true }
            return false
        }
        if case .taskStarted(_, let worker, _)? = kind { return worker }
        return nil
    }

    /// Every event so far, in order.
    var events: [HostEvent] {
        state.withLock { $0.entries.compactMap { if case .event(let event) = $0 { return event } else { return nil } } }
    }

    /// Event kinds so far, in order.
    var kinds: [HostEvent.Kind] { events.map(\.kind) }

    /// The hosts dropped so far, in order.
    var droppedHosts: [String] {
        kinds.compactMap { kind in if case .hostDropped(let host, _) = kind { host } else { nil } }
    }

    /// Worker stderr lines so far (as the host forwards them: `[worker] line`).
    var stderrLines: [String] {
        state.withLock { $0.entries.compactMap { if case .stderr(let line) = $0 { return line } else { return nil } } }
    }

    /// Waits until an entry satisfying `predicate` was recorded (already or later). Records an
    /// issue and returns nil after `timeout` seconds (a safety net; tests never rely on it).
    @discardableResult
    func waitForEntry(_ what: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
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
    func waitFor(_ what: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
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
    func waitForStart(of task: UInt64, attempt: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation)
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
    func waitForEnd(of task: UInt64, sourceLocation: SourceLocation = #_sourceLocation) async -> HostEvent? {
        await waitFor("end of task \(task)", sourceLocation: sourceLocation) { kind in
            if case .taskEnded(task, _, _, _) = kind { return true }
            return false
        }
    }

    /// Waits for `workerEnded` of `worker`.
    @discardableResult
    func waitForWorkerEnd(_ worker: String, sourceLocation: SourceLocation = #_sourceLocation) async -> String? {
        let event = await waitFor("end of worker \(worker)", sourceLocation: sourceLocation) { kind in
            if case .workerEnded(worker, _) = kind { return true }
            return false
        }
        if case .workerEnded(_, let reason)? = event?.kind { return reason }
        return nil
    }

    // MARK: Views

    /// Task ids in the order their first `taskStarted` happened.
    var startOrder: [UInt64] {
        var seen = Set<UInt64>()
        var order: [UInt64] = []
        for kind in kinds {
            if case .taskStarted(let task, _, _) = kind, seen.insert(task).inserted { order.append(task) }
        }
        return order
    }

    /// Every `taskStarted` as (task, worker, attempt), in order.
    var starts: [(task: UInt64, worker: String, attempt: Int)] {
        kinds.compactMap { if case .taskStarted(let task, let worker, let attempt) = $0 { return (task, worker, attempt) } else { return nil } }
    }

    /// The worker names of `task`'s attempts, in order.
    func workers(of task: UInt64) -> [String] { starts.filter { $0.task == task }.map(\.worker) }

    /// Every `workerStarted` as (name, pid), in order.
    var workersStarted: [(name: String, pid: Int32)] {
        kinds.compactMap { if case .workerStarted(let name, let pid, _) = $0 { return (name, pid) } else { return nil } }
    }

    /// Every `workerEnded` as (name, reason), in order.
    var workersEnded: [(name: String, reason: String)] {
        kinds.compactMap { if case .workerEnded(let name, let reason) = $0 { return (name, reason) } else { return nil } }
    }

    /// The pid a worker reported in its handshake.
    func pid(of worker: String) -> Int32? { workersStarted.last { $0.name == worker }?.pid }

    /// Ids of every queued task.
    var queuedTasks: [UInt64] {
        kinds.compactMap { if case .taskQueued(let task, _, _, _) = $0 { return task } else { return nil } }
    }

    /// `taskRetried` events as (task, reason).
    var retries: [(task: UInt64, reason: String)] {
        kinds.compactMap { if case .taskRetried(let task, let reason) = $0 { return (task, reason) } else { return nil } }
    }

    /// Index of the first event satisfying `predicate`.
    func index(where predicate: (HostEvent.Kind) -> Bool) -> Int? { kinds.firstIndex(where: predicate) }
}

// MARK: - Running

/// One run under test: the run, its event log, and how many kinds were added.
struct TestRun {
    let run: PluginRun
    let log = EventLog()

    init(_ configuration: HostConfiguration = .test()) {
        run = PluginRun(configuration: configuration)
        let log = self.log
        run.observe { log.record(.event($0)) }
        run.redirectWorkerStandardError { log.record(.stderr($0)) }
    }

    /// A run of one chaos kind with `arguments`.
    init(chaos arguments: [String], policy: WorkerPolicy? = nil, _ configuration: HostConfiguration = .test()) throws {
        self.init(configuration)
        try addChaos(arguments, policy: policy)
    }

    func addChaos(_ arguments: [String], policy: WorkerPolicy? = nil) throws {
        try run.addKind(Chaos.library, arguments: arguments, policy: policy)
    }

    func start() { run.start() }

    /// Waits for the end of the run (cancelling it if it takes longer than `timeout` seconds,
    /// which is recorded as an issue), then checks the invariants every run must satisfy.
    func finish(timeout: Double = 90, checkInvariants: Bool = true,
                sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunReport {
        var report = await awaitReport(run, timeout: timeout)
        if report == nil {
            Issue.record("the run did not finish within \(timeout) s; cancelling it. \(diagnostics)", sourceLocation: sourceLocation)
            run.cancelAll()
            report = await awaitReport(run, timeout: 30)
        }
        let final = try #require(report, "the run did not end even after cancelAll", sourceLocation: sourceLocation)
        if checkInvariants { expectInvariants(final, log, sourceLocation: sourceLocation) }
        return final
    }

    /// The run's state, for a report on a hang.
    var diagnostics: String {
        let progress = run.progress
        let names = run.workerNames
        let recent = log.events.suffix(25).map { "  \($0.time) \($0.kind)" }.joined(separator: "\n")
        let pending = Set(log.queuedTasks).subtracting(log.kinds.compactMap { kind -> UInt64? in
            if case .taskEnded(let task, _, _, _) = kind { task } else { nil }
        })
        return "progress: \(progress.counts), queued \(progress.queued), busy \(progress.busy), workers \(progress.workers), "
            + "inputExhausted \(progress.inputExhausted); workers: \(names); unended tasks: \(pending.sorted().prefix(20)); "
            + "last events:\n\(recent)"
    }

    /// Starts the run, SIGKILLs the worker of `task`'s attempt `attempt` as soon as it starts
    /// (from a dedicated thread), and finishes. Fails the test if the kill did not happen.
    func startAndFinish(killingWorkerOf task: UInt64, attempt: Int, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> (report: RunReport, killed: KilledWorker)
    {
        let log = self.log
        let reaction = Reaction { log.blockingKillWorker(runningTask: task, attempt: attempt) }
        start()
        let killed = try #require(await reaction.value, "could not kill the worker of task \(task)", sourceLocation: sourceLocation)
        return (try await finish(sourceLocation: sourceLocation), killed)
    }

    /// Starts and finishes.
    func startAndFinish(timeout: Double = 90, sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunReport {
        start()
        return try await finish(timeout: timeout, sourceLocation: sourceLocation)
    }
}

/// Runs `body` at once on a new thread (not the Swift concurrency pool, which CPU-bound tests
/// elsewhere in the process may keep busy for seconds), so that a test can react to an event
/// while the thing it reacts to is still going on. `value` waits for the body's result.
final class Reaction<T: Sendable>: Sendable {
    private struct State {
        var result: T?
        var waiter: CheckedContinuation<T, Never>?
    }

    private let state = Mutex(State())

    init(_ body: @escaping @Sendable () -> T) {
        let thread = Thread { [self] in finish(body()) }
        thread.start()
    }

    private func finish(_ result: T) {
        let waiter = state.withLock { state -> CheckedContinuation<T, Never>? in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    var value: T {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> T? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

/// A worker a reaction killed.
struct KilledWorker: Sendable {
    var name: String
    var pid: Int32
}

extension EventLog {
    /// Blocks until attempt `attempt` of `task` started, then SIGKILLs its worker. Nil if that failed.
    func blockingKillWorker(runningTask task: UInt64, attempt: Int) -> KilledWorker? {
        guard let worker = blockingWaitForStart(of: task, attempt: attempt), let pid = pid(of: worker),
              ProcessProbe.kill(worker: worker, pid: pid) else { return nil }
        return KilledWorker(name: worker, pid: pid)
    }
}

/// Resolves once, from whichever side comes first.
private final class OnceFlag: Sendable {
    private let claimed = Mutex(false)
    func claim() -> Bool { claimed.withLock { was in defer { was = true }; return !was } }
}

/// The run's report, or nil after `timeout` seconds.
func awaitReport(_ run: PluginRun, timeout: Double) async -> RunReport? {
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

// MARK: - Invariants

/// Every run: each queued task ends exactly once, nothing ends that was not queued, the report's
/// counts equal the ended events and the number of queued tasks, results match, each started
/// worker ended once, and every worker process is gone.
func expectInvariants(_ report: RunReport, _ log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) {
    let kinds = log.kinds
    var queued: [UInt64: Int] = [:]
    var ended: [UInt64: Int] = [:]
    var endedCounts = OutcomeCounts()
    var startedAfterEnd: [UInt64] = []
    for kind in kinds {
        switch kind {
        case .taskQueued(let task, _, _, _): queued[task, default: 0] += 1
        case .taskEnded(let task, _, let outcome, _):
            ended[task, default: 0] += 1
            endedCounts.record(outcome)
        case .taskStarted(let task, _, _):
            if ended[task] != nil { startedAfterEnd.append(task) }
        default: break
        }
    }
    let duplicatesQueued = queued.filter { $0.value != 1 }.keys.sorted()
    #expect(duplicatesQueued.isEmpty, "tasks queued more than once: \(duplicatesQueued)", sourceLocation: sourceLocation)
    let notEndedOnce = queued.keys.filter { ended[$0] != 1 }.sorted()
    #expect(notEndedOnce.isEmpty, "tasks that did not end exactly once: \(notEndedOnce.map { "\($0)×\(ended[$0] ?? 0)" })",
            sourceLocation: sourceLocation)
    let endedUnqueued = ended.keys.filter { queued[$0] == nil }.sorted()
    #expect(endedUnqueued.isEmpty, "tasks that ended without being queued: \(endedUnqueued)", sourceLocation: sourceLocation)
    #expect(startedAfterEnd.isEmpty, "tasks started after they ended: \(startedAfterEnd)", sourceLocation: sourceLocation)
    #expect(report.counts.total == queued.count, "report counts \(report.counts.total) tasks, \(queued.count) were queued",
            sourceLocation: sourceLocation)
    #expect(report.counts == endedCounts, "report counts \(report.counts) differ from the ended events \(endedCounts)",
            sourceLocation: sourceLocation)
    if !report.results.isEmpty || report.counts.total == 0 {
        #expect(report.results.count == report.counts.total, sourceLocation: sourceLocation)
        #expect(Set(report.results.map(\.id)) == Set(queued.keys), sourceLocation: sourceLocation)
    }
    // Workers: every one that started also ended, once.
    var live: [String: Int] = [:]
    for kind in kinds {
        if case .workerStarted(let name, _, _) = kind { live[name, default: 0] += 1 }
        if case .workerEnded(let name, _) = kind { live[name, default: 0] -= 1 }
    }
    let unbalanced = live.filter { $0.value != 0 }
    #expect(unbalanced.isEmpty, "workers started and ended unevenly: \(unbalanced)", sourceLocation: sourceLocation)
    expectNoWorkerLeft(log, sourceLocation: sourceLocation)
}

/// Every worker process seen in `log` is gone (not alive, not a zombie).
func expectNoWorkerLeft(_ log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) {
    let left = log.workersStarted.filter { ProcessProbe.isAlive(pid: $0.pid, name: $0.name) }
    #expect(left.isEmpty, "worker processes left behind: \(left.map { "\($0.name) pid \($0.pid)" })",
            sourceLocation: sourceLocation)
}

// MARK: - Processes

enum ProcessProbe {
    /// The NUL-separated command line of `pid`, or nil if it is gone.
    static func commandLine(of pid: Int32) -> [String]? {
        guard let bytes = readFile("/proc/\(pid)/cmdline") else { return nil }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The fields of /proc/PID/stat after the parenthesised command (state, ppid, pgrp, ...),
    /// or nil if the process is gone.
    static func statFields(of pid: Int32) -> [Substring]? {
        guard let bytes = readFile("/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// The state letter from /proc/PID/stat (R, S, Z...), or nil if gone.
    static func state(of pid: Int32) -> Character? {
        statFields(of: pid)?.first?.first
    }

    /// The parent pid from /proc/PID/stat.
    static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(of: pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    /// The process group from /proc/PID/stat.
    static func processGroup(of pid: Int32) -> Int32? {
        guard let fields = statFields(of: pid), fields.count > 2 else { return nil }
        return Int32(fields[2])
    }

    /// True if `pid` is still the worker called `name` (alive or zombie). A pid that was reused by
    /// another process does not count.
    static func isAlive(pid: Int32, name: String) -> Bool {
        if Glibc.kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let arguments = commandLine(of: pid) else { return false }
        guard let index = arguments.firstIndex(of: "--name"), index + 1 < arguments.count else {
            // Zombies have an empty command line: the pid still exists and was not reaped.
            return arguments.allSatisfy(\.isEmpty) && state(of: pid) == "Z" && parent(of: pid) == getpid()
        }
        return arguments[index + 1] == name
    }

    /// Children of `parent` whose command line contains `needle`.
    static func children(of parent: Int32, containing needle: String) -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var found: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), self.parent(of: pid) == parent else { continue }
            if let line = commandLine(of: pid), line.contains(where: { $0.contains(needle) }) { found.append(pid) }
        }
        return found
    }

    /// Kills `pid` with `signal` only if it still is the worker `name` (guards against pid reuse).
    @discardableResult
    static func kill(worker name: String, pid: Int32, signal: Int32 = SIGKILL) -> Bool {
        guard let arguments = commandLine(of: pid), let index = arguments.firstIndex(of: "--name"),
              index + 1 < arguments.count, arguments[index + 1] == name else { return false }
        return Glibc.kill(pid, signal) == 0
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            out.append(contentsOf: buffer[0..<count])
        }
        return out
    }
}

// MARK: - Results

extension RunReport {
    /// The result of task `id` (fails the test if missing).
    func result(_ id: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws -> TaskResult {
        try #require(results.first { $0.id == id }, "no result for task \(id)", sourceLocation: sourceLocation)
    }
}

/// Parses a chaos response "pid=PID STATUS RESULT".
struct ChaosResponse: Equatable {
    var pid: Int32
    /// "F" or "O:COMP".
    var status: String
    var result: String

    init?(_ message: String?) {
        guard let message, message.hasPrefix("pid=") else { return nil }
        let parts = message.dropFirst(4).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let pid = Int32(parts[0]) else { return nil }
        self.pid = pid
        self.status = String(parts[1])
        self.result = parts.count > 2 ? String(parts[2]) : ""
    }
}

extension TaskResult {
    /// The chaos response in the message, if it is one.
    var response: ChaosResponse? { ChaosResponse(message) }
}

// MARK: - Files

/// A private temporary directory, removed with its content at deinit.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        var template = Array("/tmp/pluginhost-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let target = file(name)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        precondition(fd >= 0, "cannot create \(target)")
        var copy = text
        copy.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        close(fd)
        return target
    }

    /// Removes the directory and everything under it (tests make subdirectories: blob caches,
    /// remote plugin copies).
    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A deterministic generator (SplitMix64) so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
