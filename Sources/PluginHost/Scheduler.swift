import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The run's shared state and every scheduling decision, guarded by one lock.
///
/// Worker threads (see ``WorkerSlot``) call in with the lock held; every method named
/// `…Locked` expects that. Master-side plugin callbacks are made here, so they are serialised.
/// Writes to workers are never done under the lock: methods return ``Outbox`` items that the
/// caller sends after unlocking.
final class Scheduler: @unchecked Sendable {
    let lock = ConditionLock()
    let configuration: HostConfiguration
    private(set) var kinds: [KindState] = []
    /// Workers by slot; nil where the slot holds no process.
    private(set) var slots: [WorkerState?]
    private var nextTaskID: UInt64 = 1
    private let startTime = monotonicNanoseconds()
    let watchdog: Watchdog
    /// The machines workers run on; `slotHosts[slot]` indexes this for each slot.
    let hosts: [HostState]
    private let slotHosts: [Int]
    /// Files the kinds published for their workers.
    let blobs = BlobStore()
    /// The run's cgroup, under which each worker gets its own (nil where none can be made).
    /// Set by ``start()`` before any slot thread reads it; removed when the run finishes.
    private(set) var cgroup: RunCgroup?

    // Run-wide state.
    private(set) var draining = false
    private(set) var interrupted = false
    private(set) var liveSlotThreads = 0
    /// Slots whose thread was started. Threads start only when a worker is needed and no
    /// waiting thread can spawn it, so a large `-j` with little work costs few threads.
    private var slotHasThread: [Bool]
    /// Slots whose thread waits in ``nextWorkerLocked(slot:)`` for something to spawn.
    private var waitingSlots = Set<Int>()
    /// Slot threads started during the run.
    private var slotThreadsStarted = 0
    /// A slot thread could not be started (the process limit): warned once.
    private var warnedThreadFailure = false
    /// Retired workers that left their slot and are being reaped by a reaper thread.
    private var reapsPending = 0
    /// While positive, the run does not end when its queues drain (the embedding program will
    /// push more tasks).
    private var inputHolds = 0
    private var started = false
    /// Cores not yet claimed by a slot's thread; nil when slots are not pinned.
    private var cores: CoreAssignment?
    private var counts = OutcomeCounts()
    private var results: [TaskResult] = []
    private var setupErrors: [String] = []
    private var workersStarted = 0
    private(set) var report: RunReport?
    private var completionHandlers: [@Sendable (RunReport) -> Void] = []
    private var observers: [(categories: HostEventCategories, handler: @Sendable (HostEvent) -> Void)] = []
    /// The union of what the observers want: events outside it are never built.
    private var observed: HostEventCategories = []
    /// Plugin warnings waiting to be written, outside the lock, by the next delivered outbox.
    private var pendingWarnings: [String] = []
    /// Where worker stderr lines go (already prefixed with the worker's name).
    var stderrHandler: @Sendable (String) -> Void = { line in printToStandardError(line) }

    init(configuration: HostConfiguration) {
        self.configuration = configuration
        self.slots = Array(repeating: nil, count: configuration.jobs)
        self.slotHasThread = Array(repeating: false, count: configuration.jobs)
        self.watchdog = Watchdog()
        if configuration.hosts.isEmpty {
            hosts = [HostState(name: "", launcher: configuration.launcher)]
            slotHosts = Array(repeating: 0, count: configuration.jobs)
        } else {
            hosts = configuration.hosts.map { HostState(name: $0.name, launcher: $0.isLocal ? nil : configuration.launcher) }
            let assignment = WorkerHost.slotAssignment(configuration.hosts, jobs: configuration.jobs)
            // A budget larger than the hosts' slots leaves the extra slots to the first host.
            slotHosts = (0..<configuration.jobs).map { $0 < assignment.count ? assignment[$0] : assignment.first ?? 0 }
        }
        blobs.hashesOnPublish = hosts.contains { $0.isRemote }
        // Called from plugin callbacks, with the lock held.
        blobs.isRemoteWorker = { [unowned self] name in
            slots.first { $0?.name == name }?.map { $0.host.isRemote }
        }
    }

    /// The host a slot's workers run on.
    func host(ofSlot slot: Int) -> HostState { hosts[slotHosts[slot]] }

    // MARK: - Set-up

    func addKind(_ plugin: MasterPlugin) throws(HostError) {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { throw HostError.usage("task kinds must be added before the run starts") }
        try HostConfiguration.checkJobs(configuration.jobs)
        // Two kinds from one plugin get distinct names (chaos, chaos-2), so worker names and
        // per-kind counts stay unambiguous.
        var name = plugin.library.name
        var suffix = 2
        while kinds.contains(where: { $0.name == name }) {
            name = "\(plugin.library.name)-\(suffix)"
            suffix += 1
        }
        let kind = KindState(name: name, plugin: plugin)
        kinds.append(kind)
        absorbSideEffectsLocked(kind, parent: nil, origin: nil)
    }

    /// True once ``start()`` ran.
    var isStarted: Bool { lock.withLock { started } }

    func addObserver(_ categories: HostEventCategories, _ observer: @escaping @Sendable (HostEvent) -> Void) {
        lock.withLock {
            observers.append((categories, observer))
            observed.formUnion(categories)
        }
    }

    func onCompletion(_ handler: @escaping @Sendable (RunReport) -> Void) {
        let finished: RunReport? = lock.withLock {
            if let report { return report }
            completionHandlers.append(handler)
            return nil
        }
        if let finished { handler(finished) }
    }

    /// Starts the watchdog and the slot threads the first dispatch needs (at least one: the last
    /// slot thread to leave finishes the run); more start as workers are needed.
    func start() {
        // A write to a dead worker must fail with EPIPE, not kill the master.
        signal(SIGPIPE, SIG_IGN)
        let outbox: Outbox = lock.withLock {
            precondition(!started, "a run starts once")
            started = true
            cgroup = configuration.usesWorkerCgroups ? RunCgroup.make() : nil
            if configuration.pinsSlotsToCores {
                cores = CoreAssignment(slots: slots.count, allowedCores: SystemInfo.allowedCores)
            }
            // Tasks queued by master_open, before observers could all be in place.
            if wants(.taskProgress) {
                var initial: [TaskRecord] = []
                for kind in kinds { _ = kind.queue.contains { initial.append($0); return false } }
                for task in initial.sorted(by: { $0.id < $1.id }) { emitQueuedLocked(task) }
            }
            let outbox = dispatchLocked()
            if liveSlotThreads == 0 && !startSlotThreadLocked(0) {
                preconditionFailure("the host cannot run without a slot thread")
            }
            return outbox
        }
        watchdog.start(scheduler: self)
        if configuration.maxWorkerRSSBytes != nil {
            watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.memoryCheckInterval),
                              .memoryCheck)
        }
        outbox.deliver()
    }

    // MARK: - Events

    /// Sends an event to the observers that want it. Build arguments lazily: call sites guard
    /// costly ones with `wants(_:)`.
    func emitLocked(_ kind: @autoclosure () -> HostEvent.Kind) {
        guard !observed.isEmpty else { return }
        let kind = kind()
        let category = kind.category
        guard !observed.isDisjoint(with: category) else { return }
        let event = HostEvent(time: Double(monotonicNanoseconds() - startTime) / 1e9, kind: kind)
        for observer in observers where !observer.categories.isDisjoint(with: category) { observer.handler(event) }
    }

    /// ``emitLocked(_:)`` for an event whose category is known before it is built: an event no
    /// observer wants is not even built (the per-task events).
    @inline(__always)
    func emitLocked(_ category: HostEventCategories, _ kind: @autoclosure () -> HostEvent.Kind) {
        guard !observed.isDisjoint(with: category) else { return }
        emitLocked(kind())
    }

    /// Whether some observer wants events of `category`.
    func wants(_ category: HostEventCategories) -> Bool { !observed.isDisjoint(with: category) }

    // MARK: - Tasks

    /// Queues tasks pushed by the plugin during the last callback; holds its broadcasts back for
    /// each worker's next request and sends its logs. Returns how many tasks it pushed.
    @discardableResult
    func absorbSideEffectsLocked(_ kind: KindState, parent: TaskRecord?, origin: WorkerState?) -> Int {
        guard kind.plugin.hasSideEffects else { return 0 }
        var unused = Outbox()
        return absorbSideEffectsLocked(kind, parent: parent, origin: origin, outbox: &unused, sendBroadcasts: false)
    }

    /// Queues tasks pushed by the plugin during the last callback; sends its broadcasts to idle
    /// workers through `outbox` (when `sendBroadcasts`) and its logs. Returns how many tasks it
    /// pushed (queued, or ended at once if the run was interrupted).
    @discardableResult
    func absorbSideEffectsLocked(_ kind: KindState, parent: TaskRecord?, origin: WorkerState?, outbox: inout Outbox,
                                 sendBroadcasts: Bool = true) -> Int {
        guard kind.plugin.hasSideEffects else { return 0 }
        let effects = kind.plugin.drainSideEffects()
        for pushed in effects.pushes {
            let isFollowUp = pushed.isFollowUp && parent != nil
            let timeout = UInt64(pushed.timeoutMilliseconds) * 1_000_000
            let task = newTaskLocked(kind, bytes: pushed.bytes, priority: pushed.priority, timeoutNanoseconds: timeout,
                                     parent: isFollowUp ? parent : nil, origin: isFollowUp ? origin : nil)
            if interrupted {
                endLocked(task, .cancelled, "the run was interrupted")
            } else {
                queueLocked(task)
            }
        }
        if !effects.broadcasts.isEmpty {
            let targets = slots.compactMap { $0 }.filter { $0.kind === kind && $0.phase != .starting && $0.phase != .gone }
            // (Broadcasts are rare; this allocation is off the per-task path.)
            for payload in effects.broadcasts where payload.count <= Frame.defaultMaximumPayload {
                for worker in targets {
                    // A busy worker reads nothing until it answers: writing now could fill its
                    // pipe and block this thread. It gets the broadcast before its next request.
                    if worker.phase == .busy || !sendBroadcasts {
                        worker.pendingBroadcasts.append(payload)
                    } else {
                        outbox.append(worker, type: .broadcast, id: 0, payload: payload)
                    }
                }
            }
        }
        for (level, message) in effects.logs {
            emitLocked(.log(source: kind.name, level: Int(level), message: message))
            // Printed after the lock is released (a stalled stderr must not stall the run).
            if level >= 2 { pendingWarnings.append("\(kind.name): \(message)") }
        }
        return effects.pushes.count
    }

    /// A new task with the next id (not queued yet).
    private func newTaskLocked(_ kind: KindState, bytes: [UInt8], priority: Int32, timeoutNanoseconds: UInt64,
                               parent: TaskRecord?, origin: WorkerState?) -> TaskRecord {
        defer { nextTaskID += 1 }
        return TaskRecord(id: nextTaskID, kind: kind, bytes: bytes, priority: priority,
                          timeoutNanoseconds: timeoutNanoseconds, parent: parent, origin: origin)
    }

    /// Queues a task and tells the observers (tasks queued before the start are announced by
    /// ``start()``, once every observer is in place).
    private func queueLocked(_ task: TaskRecord) {
        task.kind.queue.append(task)
        if started { emitQueuedLocked(task) }
    }

    private func emitQueuedLocked(_ task: TaskRecord) {
        guard wants(.taskProgress) else { return }  // name_of_task is a plugin call: only when watched.
        emitLocked(.taskQueued(task: task.id, kind: task.kind.name, name: task.kind.plugin.name(ofTask: task.bytes),
                               parent: task.parent))
    }

    /// Ends a task exactly once.
    func endLocked(_ task: TaskRecord, _ outcome: TaskOutcome, _ message: String?) {
        guard !task.ended else { return }
        task.ended = true
        if !started {
            emitQueuedLocked(task)  // Ended before the run started: its queued event was not sent yet.
        }
        counts.record(outcome)
        task.kind.counts.record(outcome)
        if configuration.collectResults {
            results.append(TaskResult(id: task.id, kind: task.kind.name, name: task.kind.plugin.name(ofTask: task.bytes),
                                      outcome: outcome, message: message, attempts: task.attempts, parent: task.parent))
        }
        emitLocked(outcome.eventCategory, .taskEnded(task: task.id, kind: task.kind.name, outcome: outcome, message: message))
    }

    // MARK: - Dispatch

    /// Matches idle workers with queued tasks, pulls lazy input, wakes slots that should spawn,
    /// fails tasks no worker can ever take, and notices the end of the run.
    func dispatchLocked() -> Outbox {
        var outbox = Outbox()
        dispatchLocked(into: &outbox)
        return outbox
    }

    /// ``dispatchLocked()`` adding its frames to `outbox`.
    func dispatchLocked(into outbox: inout Outbox) {
        defer {
            if !pendingWarnings.isEmpty {
                outbox.warnings(pendingWarnings, to: stderrHandler)
                pendingWarnings.removeAll()
            }
        }
        guard started else { return }
        // Local snapshots (nothing here adds or removes a slot or a kind): iterating them needs no
        // retain per element, as iterating the properties would.
        let slots = self.slots, kinds = self.kinds
        var rounds = 0
        repeat {
            rounds += 1
            var queued = 0
            for kind in kinds where !kind.inputExhausted {
                queued += pullIfNeededLocked(kind)
            }
            let endedBefore = counts.total
            for case let worker? in slots where worker.phase == .idle && worker.exitIntent == nil {
                assignLocked(worker, outbox: &outbox)
            }
            // Tasks that ended without running (obsolete) may have emptied a queue whose kind
            // still has input to pull: go round again, or nothing would ever pull it.
            var changed = queued > 0 || (counts.total != endedBefore && kinds.contains { !$0.inputExhausted })
            for kind in kinds where !kind.queue.isEmpty {
                if kind.spawnFailure != nil {
                    failUnstartableLocked(kind)
                    changed = true
                } else if failOrphansLocked(kind) {
                    changed = true
                }
            }
            // Pulls and loss callbacks may queue tasks that idle workers can take at once.
            if !changed { break }
        } while rounds < 64
        // A kind short of workers gets an empty slot, or else an idle worker's slot: with neither
        // (every worker busy, the steady state of a persistent pool) there is nothing to decide.
        // (A dropped host's empty slots never spawn again: they do not count.)
        let hasEmptySlot = slots.indices.contains { slots[$0] == nil && hosts[slotHosts[$0]].dropped == nil }
        if hasEmptySlot || slots.contains(where: { $0?.phase == .idle && $0?.exitIntent == nil }),
           let kind = kindNeedingWorkerLocked() {
            if hasEmptySlot {
                lock.broadcast()
                ensureSlotThreadLocked()
            } else {
                freeSlotLocked(for: kind)
            }
        }
        checkDrainedLocked()
    }

    /// Asks a lazy kind for more input when its queue runs low; returns how many tasks came.
    private func pullIfNeededLocked(_ kind: KindState) -> Int {
        guard !kind.inputExhausted, !interrupted else { return 0 }
        if kind.queue.count >= configuration.jobs {
            let slots = self.slots
            // Enough queued, unless none of it can run now (e.g. follow-ups pinned to a dead
            // worker): then more input is what lets the run go on, and end.
            for case let worker? in slots where worker.kind === kind && (worker.phase == .busy || worker.phase == .starting) {
                return 0
            }
            if kind.queue.contains(limit: 64, where: { freshMatchLocked($0) }) { return 0 }
        }
        let wanted = max(1, configuration.jobs * 2 - kind.queue.count)
        let more = kind.plugin.pull(max: wanted)
        let queued = absorbSideEffectsLocked(kind, parent: nil, origin: nil)
        if !more { kind.inputExhausted = true }
        return queued
    }

    /// Offers `worker` the first queued task of its kind it matches. Returns true if it got one.
    @discardableResult
    private func assignLocked(_ worker: WorkerState, outbox: inout Outbox) -> Bool {
        let kind = worker.kind
        while true {
            guard let task = kind.queue.removeFirst(where: { canTakeLocked(worker, $0) }) else { return false }
            switch kind.plugin.requestOfTask(worker.status, task.bytes, worker: worker.name) {
            case .obsolete:
                endLocked(task, .skipped, "request_of_task: task no longer valid")
                continue
            case .marshalError(let message):
                resolveMarshalErrorLocked(task, message: message)
                retireLocked(worker, .marshalError(message))
                return true
            case .request(let request) where request.count > Frame.defaultMaximumPayload:
                resolveMarshalErrorLocked(task, message: "request of \(request.count) bytes exceeds the frame limit of \(Frame.defaultMaximumPayload)")
                continue
            case .request(let request):
                task.attempts += 1
                worker.running = task
                worker.phase = .busy
                emitLocked(.taskProgress, .taskStarted(task: task.id, worker: worker.name, attempt: task.attempts))
                let limit = task.timeoutNanoseconds > 0 ? task.timeoutNanoseconds
                    : configuration.timeout.map(nanoseconds(fromSeconds:)) ?? 0
                if limit > 0 {
                    watchdog.schedule(at: monotonicNanoseconds() &+ limit, .expire(worker: worker, taskID: task.id))
                }
                if !worker.pendingBroadcasts.isEmpty {
                    for payload in worker.pendingBroadcasts {
                        outbox.append(worker, type: .broadcast, id: 0, payload: payload)
                    }
                    worker.pendingBroadcasts.removeAll()
                }
                outbox.append(worker, type: .request, id: task.id, payload: request)
                return true
            }
        }
    }

    /// A kind that has queued work a fresh worker could take, beyond the workers starting; among
    /// several, the one with the fewest live workers, so kinds share the budget.
    private func kindNeedingWorkerLocked() -> KindState? {
        guard !interrupted else { return nil }
        var best: (kind: KindState, live: Int)?
        let now = monotonicNanoseconds()
        for kind in kinds where kind.spawnFailure == nil && !kind.queue.isEmpty && kind.spawnNotBefore <= now {
            var starting = 0
            var live = 0
            for case let worker? in slots where worker.kind === kind {
                live += 1
                if worker.phase == .starting { starting += 1 }
            }
            if let best, best.live <= live { continue }
            var freshTasks = 0
            _ = kind.queue.contains(limit: starting + 64) { task in
                if freshMatchLocked(task) { freshTasks += 1 }
                return freshTasks > starting
            }
            if freshTasks > starting { best = (kind, live) }
        }
        return best?.kind
    }

    /// The worker that pushed `task` as a follow-up, if it is alive and still suits the task:
    /// the task waits for it.
    private func reservingOriginLocked(_ task: TaskRecord) -> WorkerState? {
        guard let origin = task.origin, origin.phase == .idle || origin.phase == .busy, origin.exitIntent == nil,
              task.kind.plugin.taskMatch(origin.status, task.bytes, worker: origin.name)
        else { return nil }
        return origin
    }

    /// One rule for "may this worker run this task now": a follow-up is offered to the worker
    /// that pushed it while that worker lives and suits it; otherwise `task_match` decides.
    private func canTakeLocked(_ worker: WorkerState, _ task: TaskRecord) -> Bool {
        if task.origin != nil, let origin = reservingOriginLocked(task), origin !== worker { return false }
        return task.kind.plugin.taskMatch(worker.status, task.bytes, worker: worker.name)
    }

    private func freshMatchLocked(_ task: TaskRecord) -> Bool {
        if task.origin != nil {
            if reservingOriginLocked(task) != nil { return false }
            return task.kind.plugin.taskMatch(.fresh, task.bytes)
        }
        if let cached = task.matchesFresh { return cached }
        let matches = task.kind.plugin.taskMatch(.fresh, task.bytes)
        task.matchesFresh = matches
        return matches
    }

    /// Every slot is taken but `kind` needs a worker: retire an idle worker with nothing to do.
    private func freeSlotLocked(for kind: KindState) {
        for case let worker? in slots where worker.phase == .idle && worker.exitIntent == nil {
            let hasWork = worker.kind.queue.contains(limit: 64) { canTakeLocked(worker, $0) }
            if !hasWork {
                retireLocked(worker, .retired("its slot is needed by \(kind.name)"))
                return
            }
        }
    }

    /// Tells the plugin a task was lost (`on_task_lost`) and queues what it pushed meanwhile.
    private func lossDecisionLocked(_ task: TaskRecord, _ reason: ph_loss_reason, _ message: String,
                                    willRetry: Bool) -> Decision {
        let decision = task.kind.plugin.taskLost(task.bytes, reason: reason, message: message, willRetry: willRetry)
        absorbSideEffectsLocked(task.kind, parent: task, origin: nil)
        return decision
    }

    /// Ends `task` as the plugin resolved it, or else with `outcome` and `message`.
    private func settleLocked(_ task: TaskRecord, _ decision: Decision, otherwise outcome: TaskOutcome, _ message: String) {
        if let resolution = decision.resolution {
            endLocked(task, resolution.outcome, resolution.message)
        } else {
            endLocked(task, outcome, message)
        }
    }

    /// Fails queued tasks that no live worker matches and no fresh worker could take.
    private func failOrphansLocked(_ kind: KindState) -> Bool {
        if !kind.inputExhausted { return false }
        let slots = self.slots
        for case let worker? in slots where worker.kind === kind && (worker.phase == .busy || worker.phase == .starting) {
            return false
        }
        let idle = slots.compactMap { $0 }.filter { $0.kind === kind && $0.phase == .idle && $0.exitIntent == nil }
        let orphans = kind.queue.removeAll { task in
            if freshMatchLocked(task) { return false }
            return !idle.contains { canTakeLocked($0, task) }
        }
        for task in orphans {
            let message = "no worker can take this task (the worker holding its state is gone)"
            settleLocked(task, lossDecisionLocked(task, PH_LOSS_ORPHANED, message, willRetry: false),
                         otherwise: .failed, message)
        }
        return !orphans.isEmpty
    }

    private func failUnstartableLocked(_ kind: KindState) {
        let message = kind.spawnFailure ?? "workers cannot be started"
        let tasks = kind.queue.removeAll { _ in true }
        for task in tasks {
            let decision = lossDecisionLocked(task, PH_LOSS_SPAWN_FAILED, message, willRetry: false)
            if decision.resolution == nil && !kind.reportedSpawnFailure {
                kind.reportedSpawnFailure = true
                setupErrors.append("\(kind.name): worker could not be started: \(message)")
            }
            settleLocked(task, decision, otherwise: .failed, "worker could not be started: \(message)")
        }
    }

    private func checkDrainedLocked() {
        guard !draining, inputHolds == 0 || interrupted else { return }
        let slots = self.slots, kinds = self.kinds
        for kind in kinds where !kind.queue.isEmpty || !kind.inputExhausted { return }
        for case let worker? in slots where worker.phase == .busy || worker.phase == .starting || worker.phase == .exiting {
            return
        }
        draining = true
        for case let worker? in slots where worker.phase == .idle {
            // A clean exit: the worker sees end of file and runs the plugin's worker_fini; the
            // watchdog kills it if it lingers.
            if worker.exitIntent == nil { worker.exitIntent = .shutdown }
            worker.closeInput()
            watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.killGracePeriod),
                              .kill(worker: worker))
        }
        lock.broadcast()
    }

    // MARK: - Worker life

    /// Asks for a worker to end: its slot thread kills and reaps it.
    func retireLocked(_ worker: WorkerState, _ intent: WorkerState.ExitIntent) {
        if worker.exitIntent == nil { worker.exitIntent = intent }
        worker.signal(SIGKILL)
    }

    /// The core a starting slot thread now running on `current` should stay on, or nil when slots
    /// are not pinned (see ``CoreAssignment``).
    func claimCoreLocked(current: Int32) -> Int32? {
        cores?.claim(preferring: current)
    }

    /// A slot with no process asks what to do: spawn a worker of some kind, or stop.
    func nextWorkerLocked(slot: Int) -> WorkerState? {
        let host = host(ofSlot: slot)
        while true {
            if draining { return nil }
            let hostReady = host.dropped == nil && host.downUntil <= monotonicNanoseconds()
            if hostReady, let kind = kindNeedingWorkerLocked() {
                let uid = kind.nextUID
                kind.nextUID += 1
                let worker = WorkerState(name: "\(kind.name):\(slot):\(uid)", kind: kind, slot: slot, host: host,
                                         heartbeat: configuration.heartbeat(launched: host.isRemote))
                slots[slot] = worker
                ensureSlotThreadLocked()  // More work than this worker: the next slot gets a thread.
                return worker
            }
            // Sleep until woken, or until a kind's spawn back-off or the host's back-off ends.
            var wake = kinds.filter { $0.spawnFailure == nil && !$0.queue.isEmpty && $0.spawnNotBefore > monotonicNanoseconds() }
                .map(\.spawnNotBefore).min()
            if host.dropped == nil && host.downUntil > monotonicNanoseconds() {
                wake = min(wake ?? .max, host.downUntil)
            }
            waitingSlots.insert(slot)
            if let wake { lock.wait(untilNanoseconds: wake) } else { lock.wait() }
            waitingSlots.remove(slot)
        }
    }

    /// Starts a slot thread when a kind needs a worker and no waiting slot thread on a usable
    /// host can spawn it: the first slot without a thread whose host takes workers now.
    private func ensureSlotThreadLocked() {
        guard !draining, !interrupted, kindNeedingWorkerLocked() != nil else { return }
        let now = monotonicNanoseconds()
        func usable(_ slot: Int) -> Bool {
            let host = hosts[slotHosts[slot]]
            return host.dropped == nil && host.downUntil <= now && slots[slot] == nil
        }
        if waitingSlots.contains(where: usable) { return }
        guard let slot = slots.indices.first(where: { !slotHasThread[$0] && usable($0) }) else { return }
        startSlotThreadLocked(slot)
    }

    /// Starts the thread of `slot`. Returns false if the system refused a thread: the run goes
    /// on with the slot threads it has (with a warning).
    @discardableResult
    private func startSlotThreadLocked(_ slot: Int) -> Bool {
        let worker = WorkerSlot(index: slot, scheduler: self)
        let rc = startDetachedThread { worker.run() }
        guard rc == 0 else {
            if !warnedThreadFailure {
                warnedThreadFailure = true
                pendingWarnings.append("plugin-host: warning: cannot start another slot thread (\(String(cString: strerror(rc)))); "
                                       + "going on with \(liveSlotThreads)")
            }
            return false
        }
        slotHasThread[slot] = true
        liveSlotThreads += 1
        slotThreadsStarted += 1
        return true
    }

    /// A worker could not be started on a remote host, or went silent there: the host is left
    /// alone for a back-off that doubles with each failure in a row, and dropped after
    /// `hostFailureLimit` of them. With no host left, every kind fails to start.
    ///
    /// One outage counts once: a failure of a worker spawned before the host's last recorded
    /// failure (its link went down with the others) is not counted again. A host is not
    /// dropped while it still has live workers.
    func hostFailedLocked(_ host: HostState, message: String, workerSpawnedAt: UInt64) {
        guard host.dropped == nil, workerSpawnedAt >= host.lastFailureAt else { return }
        host.consecutiveFailures += 1
        host.lastFailureAt = monotonicNanoseconds()
        let hasLiveWorkers = slots.contains { worker in
            guard let worker, worker.host === host else { return false }
            return (worker.phase == .idle || worker.phase == .busy) && worker.exitIntent == nil
        }
        if host.consecutiveFailures >= configuration.hostFailureLimit && !hasLiveWorkers {
            host.dropped = message
            emitLocked(.hostDropped(host: host.name, message: message))
            pendingWarnings.append("plugin-host: warning: \(host.label) dropped from the run after \(host.consecutiveFailures) failures in a row; last: \(message)")
            if hosts.allSatisfy({ $0.dropped != nil }) {
                let reason = "no worker host left; last failure: \(message)"
                for kind in kinds where kind.spawnFailure == nil { kind.spawnFailure = reason }
            }
        } else {
            let seconds = configuration.hostBackOff * Double(1 << min(20, host.consecutiveFailures - 1))
            host.downUntil = monotonicNanoseconds() &+ nanoseconds(fromSeconds: seconds)
            emitLocked(.hostDown(host: host.name, message: message, seconds: seconds))
            pendingWarnings.append("plugin-host: warning: \(host.label) is down for \(seconds) s: \(message)")
        }
        lock.broadcast()
    }

    /// Called by the watchdog every heartbeat interval of a worker that uses heartbeats: sends
    /// one, or declares the worker lost when it has been silent too long.
    func heartbeatLocked(_ worker: WorkerState) {
        guard let interval = worker.heartbeatNanoseconds, worker.exitIntent == nil,
              worker.phase == .idle || worker.phase == .busy else { return }
        let now = monotonicNanoseconds()
        let silence = now &- worker.lastHeardNanoseconds
        if silence > interval &* UInt64(max(1, configuration.heartbeatMisses)) {
            let seconds = Double(silence / 1_000_000) / 1000
            worker.exitIntent = .lost("\(worker.host.label): \(worker.name) sent nothing for \(seconds) s "
                                      + "(heartbeats every \(Double(interval) / 1e9) s): host or link down")
            worker.signal(SIGKILL)
            return
        }
        worker.sendHeartbeat()
        watchdog.schedule(at: now &+ interval, .heartbeat(worker: worker))
    }

    /// The worker answered its handshake.
    func workerReadyLocked(_ worker: WorkerState) -> Outbox {
        worker.kind.everStarted = true
        worker.kind.consecutiveSpawnFailures = 0
        worker.host.consecutiveFailures = 0
        workersStarted += 1
        worker.everStarted = true
        if worker.handshakeTimedOut && worker.exitIntent == nil {
            worker.exitIntent = .retired("killed at its handshake deadline")  // The deadline raced the hello.
        }
        emitLocked(.workerStarted(worker: worker.name, pid: worker.pid,
                                  startup: Double(monotonicNanoseconds() - worker.spawnedAt) / 1e9))
        if worker.exitIntent == nil {
            worker.phase = .idle
            if let interval = worker.heartbeatNanoseconds {
                watchdog.schedule(at: monotonicNanoseconds() &+ interval, .heartbeat(worker: worker))
            }
        } else {
            worker.signal(SIGKILL)  // Cancelled while it started.
        }
        return dispatchLocked()
    }

    /// The worker could not be started.
    func spawnFailedLocked(_ worker: WorkerState, message: String) -> Outbox {
        let kind = worker.kind
        worker.phase = .gone
        slots[worker.slot] = nil
        emitLocked(.spawnFailed(kind: kind.name, message: message))
        if worker.host.isRemote {
            // Launched elsewhere: the host is to blame until every host has failed.
            hostFailedLocked(worker.host, message: message, workerSpawnedAt: worker.spawnedAt)
            return dispatchLocked()
        }
        kind.consecutiveSpawnFailures += 1
        if !kind.everStarted || kind.consecutiveSpawnFailures >= 3 {
            // A set-up error (exit status 2) once a task fails for it: a plugin that runs the
            // tasks in the master instead (failUnstartableLocked) keeps the run successful.
            kind.spawnFailure = message
        } else {
            // 50 ms, then 100 ms before the third and last try.
            let delay: UInt64 = 50_000_000 << UInt64(kind.consecutiveSpawnFailures - 1)
            kind.spawnNotBefore = monotonicNanoseconds() &+ delay
        }
        return dispatchLocked()
    }

    /// One feedback frame.
    func feedbackLocked(_ worker: WorkerState, frame: ReceivedFrame) {
        guard let task = worker.running, task.id == frame.id else { return }
        worker.kind.plugin.forwardFeedback(worker: worker.name, frame.payload)
        absorbSideEffectsLocked(worker.kind, parent: task, origin: worker)
        emitLocked(.feedback, .feedback(worker: worker.name, task: task.id, bytes: frame.payload.count))
    }

    /// A response frame: judge it, keep or retire the worker, dispatch again.
    func responseLocked(_ worker: WorkerState, frame: ReceivedFrame) -> Outbox {
        guard worker.exitIntent == nil else {
            return Outbox()  // A late answer from a worker already being killed: ignore it.
        }
        guard let task = worker.running, task.id == frame.id else {
            return marshalErrorLocked(worker, message: "response for task \(frame.id), which this worker was not running")
        }
        let kind = worker.kind
        // A done task's message only reaches the results and the taskEnds observers.
        let decision = kind.plugin.useResponse(worker.status, task.bytes, frame.payload, worker: worker.name,
                                               keepDoneMessage: configuration.collectResults || wants(.taskEnds))
        worker.running = nil
        worker.jobs += 1
        var outbox = Outbox()
        if let resolution = decision.resolution {
            endLocked(task, resolution.outcome, resolution.message)
        } else {
            endLocked(task, .done, nil)
        }
        absorbSideEffectsLocked(kind, parent: task, origin: decision.stay != nil ? worker : nil, outbox: &outbox)
        if let competence = decision.stay {
            worker.status = .old(competence: competence)
            worker.phase = .idle
            var recycle: String?
            if let limit = configuration.maxJobsPerWorker, worker.jobs >= limit {
                recycle = "recycled after \(worker.jobs) jobs"
            } else if let limit = configuration.maxWorkerRSSBytes {
                let rss = csupport_rss_bytes(worker.pid)
                if rss > Int64(limit) {
                    recycle = "recycled: resident memory \(rss >> 20) MiB over the limit of \(limit >> 20) MiB"
                }
            }
            // Recycling waits while follow-ups pinned to this worker are queued: they need it.
            // (The scan runs only when a limit is reached, never on the ordinary path.)
            if let recycle, !kind.queue.contains(where: { $0.origin === worker }) {
                retireLocked(worker, .retired(recycle))
            }
        } else {
            retireLocked(worker, .retired("end"))
        }
        dispatchLocked(into: &outbox)
        return outbox
    }

    /// The worker sent an error frame, a malformed frame, or an unexpected one.
    func marshalErrorLocked(_ worker: WorkerState, message: String) -> Outbox {
        if let task = worker.running, worker.exitIntent == nil {
            worker.running = nil
            resolveMarshalErrorLocked(task, message: message)
        }
        retireLocked(worker, .marshalError(message))
        return dispatchLocked()
    }

    private func resolveMarshalErrorLocked(_ task: TaskRecord, message: String) {
        let decision = task.kind.plugin.marshalError(message, task: task.bytes)
        absorbSideEffectsLocked(task.kind, parent: task, origin: nil)
        settleLocked(task, decision, otherwise: .failed, "marshal error: \(message)")
    }

    /// The worker process is gone and reaped.
    func workerGoneLocked(_ worker: WorkerState, termination: WorkerProcess.Termination, stderrTail: [String]) -> Outbox {
        let everStarted = worker.everStarted
        worker.phase = .gone
        if slots[worker.slot] === worker { slots[worker.slot] = nil }  // (A released slot may hold a new worker.)
        let kind = worker.kind
        var reason: String
        switch worker.exitIntent {
        case .retired(let why)?: reason = why
        case .expired?: reason = "killed: its task ran past the time limit"
        case .taskCancelled?: reason = "killed: its task was cancelled"
        case .workerCancelled?: reason = "killed: worker cancelled"
        case .marshalError(let message)?: reason = "killed after a marshal error: \(message)"
        case .shutdown?: reason = "run finished"
        case .overMemory(let why)?:
            reason = why
        case .lost(let why)?:
            reason = why
            hostFailedLocked(worker.host, message: why, workerSpawnedAt: worker.spawnedAt)
        case nil:
            reason = "\(worker.name) (pid \(worker.pid)) \(termination)"
            if !stderrTail.isEmpty { reason += "; last stderr: " + stderrTail.joined(separator: " | ") }
            if worker.host.isRemote, termination == .exited(255) {
                // ssh's own failure status: the connection, not the task, broke.
                reason = "\(worker.host.label): " + reason
                hostFailedLocked(worker.host, message: reason, workerSpawnedAt: worker.spawnedAt)
            }
        }
        if everStarted { emitLocked(.workerEnded(worker: worker.name, reason: reason)) }
        if let task = worker.running {
            worker.running = nil
            let expired: Bool
            switch worker.exitIntent {
            case .expired?: expired = true
            default: expired = false
            }
            if case .workerCancelled? = worker.exitIntent {
                reason = "worker \(worker.name) was cancelled"
            }
            if !task.ended {
                taskLostLocked(task, reason: expired ? PH_LOSS_EXPIRED : PH_LOSS_WORKER_DIED, message: reason)
            }
        } else if worker.exitIntent == nil || worker.exitIntent?.isLoss == true {
            _ = kind.plugin.taskLost(nil, reason: PH_LOSS_WORKER_DIED, message: reason, willRetry: false)
            absorbSideEffectsLocked(kind, parent: nil, origin: nil)
        }
        return dispatchLocked()
    }

    /// A running task lost its worker: retry it, or let the plugin resolve it, or end it.
    private func taskLostLocked(_ task: TaskRecord, reason: ph_loss_reason, message: String) {
        let willRetry = task.attempts <= configuration.retries && !interrupted
        let decision = lossDecisionLocked(task, reason, message, willRetry: willRetry)
        if decision.resolution == nil && willRetry {
            emitLocked(.taskRetried(task: task.id, reason: message))
            task.origin = nil
            task.kind.queue.prepend(task)
        } else if reason == PH_LOSS_EXPIRED {
            settleLocked(task, decision, otherwise: .expired, "expired after \(task.attempts) attempt(s): \(message)")
        } else {
            settleLocked(task, decision, otherwise: .failed, "worker died \(task.attempts) time(s): \(message)")
        }
    }

    /// Called by the watchdog when a task's time limit passes.
    func expireLocked(_ worker: WorkerState, taskID: UInt64) {
        guard let task = worker.running, task.id == taskID, worker.exitIntent == nil else { return }
        worker.exitIntent = .expired
        worker.signal(SIGKILL)
    }

    /// Called by the watchdog every `memoryCheckInterval` while a memory limit is set: kills each
    /// busy worker on this machine whose resident memory is over `maxWorkerRSSBytes`; its task is
    /// lost as in a death (retried, then failed) with the reason naming both sizes. (Between jobs
    /// the limit recycles the worker instead: see ``responseLocked(_:frame:)``.) The `/proc`
    /// reads happen outside the lock.
    func checkWorkerMemory() {
        guard let limit = configuration.maxWorkerRSSBytes else { return }
        let busy: [(worker: WorkerState, pid: Int32, task: UInt64)] = lock.withLock {
            slots.compactMap { worker in
                guard let worker, worker.phase == .busy, worker.exitIntent == nil, worker.host.launcher == nil,
                      let task = worker.running else { return nil }
                return (worker, worker.pid, task.id)
            }
        }
        // A worker still busy with the same task afterwards was not reaped meanwhile: its pid
        // was its own when read.
        let over = busy.compactMap { entry -> (WorkerState, UInt64, Int64)? in
            let rss = csupport_rss_bytes(entry.pid)
            return rss > Int64(limit) ? (entry.worker, entry.task, rss) : nil
        }
        lock.withLock {
            for (worker, task, rss) in over
            where worker.phase == .busy && worker.exitIntent == nil && worker.running?.id == task {
                worker.exitIntent = .overMemory("worker exceeded --max-worker-rss \(limit >> 20) MiB (RSS \(rss >> 20) MiB)")
                worker.signal(SIGKILL)
            }
            if report == nil {
                watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.memoryCheckInterval),
                                  .memoryCheck)
            }
        }
    }

    /// Queues a task from outside the plugin (an embedding program). Returns its id, or nil if
    /// the kind is unknown or the run already ended.
    func pushLocked(kindName: String, task bytes: [UInt8], priority: Int32, timeoutNanoseconds: UInt64) -> UInt64? {
        guard !draining, !interrupted, let kind = kinds.first(where: { $0.name == kindName }) else { return nil }
        let task = newTaskLocked(kind, bytes: bytes, priority: priority, timeoutNanoseconds: timeoutNanoseconds,
                                 parent: nil, origin: nil)
        queueLocked(task)
        return task.id
    }

    /// Keeps the run open for outside pushes (see ``PluginRun/holdInput()``).
    func holdInputLocked() -> Bool {
        guard !draining else { return false }
        inputHolds += 1
        return true
    }

    /// Releases one hold; the run may end.
    func releaseInputLocked() {
        if inputHolds > 0 { inputHolds -= 1 }
    }

    // MARK: - Cancellation

    /// Cancels a task (queued or running) and its follow-ups. Returns false if it is unknown or ended.
    func cancelLocked(taskID: UInt64) -> Bool {
        var found = false
        for kind in kinds {
            for task in kind.queue.removeAll(where: { $0.id == taskID || $0.root == taskID }) {
                cancelTaskLocked(task)
                found = true
            }
        }
        for case let worker? in slots {
            if let task = worker.running, task.id == taskID || task.root == taskID {
                cancelRunningLocked(worker, task)
                found = true
            }
        }
        return found
    }

    private func cancelTaskLocked(_ task: TaskRecord) {
        let decision = lossDecisionLocked(task, PH_LOSS_CANCELLED, "cancelled", willRetry: false)
        if let resolution = decision.resolution, resolution.outcome == .done {
            endLocked(task, .done, resolution.message)
        } else {
            endLocked(task, .cancelled, "cancelled")
        }
    }

    private func cancelRunningLocked(_ worker: WorkerState, _ task: TaskRecord) {
        cancelTaskLocked(task)
        worker.running = nil
        worker.exitIntent = .taskCancelled
        terminateLocked(worker)
    }

    /// SIGTERM now, SIGKILL after the grace period.
    private func terminateLocked(_ worker: WorkerState) {
        worker.signal(SIGTERM)
        watchdog.schedule(at: monotonicNanoseconds() &+ nanoseconds(fromSeconds: configuration.killGracePeriod),
                          .kill(worker: worker))
    }

    /// Cancels every task and stops the run.
    func cancelAllLocked() {
        interrupted = true
        for kind in kinds {
            for task in kind.queue.removeAll(where: { _ in true }) { cancelTaskLocked(task) }
            kind.inputExhausted = true
        }
        for case let worker? in slots {
            if let task = worker.running {
                cancelRunningLocked(worker, task)
            } else if worker.exitIntent == nil {
                retireLocked(worker, .shutdown)
            }
        }
        lock.broadcast()
    }

    /// Kills one worker by name; its running task is handled as a worker death (and retried).
    func cancelWorkerLocked(name: String) -> Bool {
        guard let worker = slots.compactMap({ $0 }).first(where: { $0.name == name }), worker.exitIntent == nil else {
            return false
        }
        worker.exitIntent = .workerCancelled
        terminateLocked(worker)
        return true
    }

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

    // MARK: - End of the run

    /// Lets `worker`, which is being killed, leave its slot before it is reaped, if it was
    /// retired on purpose with no task (the plugin said `end`, a recycling limit, the slot was
    /// needed elsewhere): it ends now (event, slot freed, dispatch) and the slot starts its next
    /// worker while a reaper thread waits for the process, instead of waiting for the kernel to
    /// tear it down (milliseconds for a worker that mapped a large file) between two one-shot
    /// jobs. Returns the dispatch's frames, or nil if the slot must reap the worker itself.
    func releaseSlotIfRetiredLocked(_ worker: WorkerState) -> Outbox? {
        guard case .retired? = worker.exitIntent, worker.running == nil else { return nil }
        reapsPending += 1
        return workerGoneLocked(worker, termination: .signalled(SIGKILL), stderrTail: [])
    }

    /// A released worker's process was reaped; the run may be over.
    func releasedWorkerReapedLocked() -> (RunReport, [@Sendable (RunReport) -> Void])? {
        reapsPending -= 1
        return finishIfDoneLocked()
    }

    /// A slot thread leaves; the last one (or the last reaper after it) finishes the run.
    func slotThreadExitedLocked() -> (RunReport, [@Sendable (RunReport) -> Void])? {
        liveSlotThreads -= 1
        return finishIfDoneLocked()
    }

    /// Finishes the run once no slot thread and no reaper is left.
    private func finishIfDoneLocked() -> (RunReport, [@Sendable (RunReport) -> Void])? {
        guard liveSlotThreads == 0, reapsPending == 0, self.report == nil else { return nil }
        watchdog.stop()
        cgroup?.remove()  // Every worker was reaped: this only sweeps what a failed removal left.
        var reports: [(String, String)] = []
        var pluginStatus: Int32?
        for kind in kinds {
            let (text, status) = kind.plugin.finish(summary: kind.counts)
            reports.append((kind.name, text))
            if let status, status != 0 { pluginStatus = max(pluginStatus ?? 0, status) }
        }
        var exit: Int32 = 0
        if counts.failed + counts.expired + counts.cancelled > 0 { exit = 1 }
        if !setupErrors.isEmpty { exit = 2 }
        if let pluginStatus { exit = pluginStatus }
        let report = RunReport(counts: counts, countsByKind: Dictionary(kinds.map { ($0.name, $0.counts) }) { a, _ in a },
                               results: results, pluginReports: reports, setupErrors: setupErrors,
                               interrupted: interrupted, workersStarted: workersStarted,
                               slotThreadsStarted: slotThreadsStarted,
                               elapsed: Double(monotonicNanoseconds() - startTime) / 1e9, exitStatus: exit)
        self.report = report
        let handlers = completionHandlers
        completionHandlers = []
        lock.broadcast()
        return (report, handlers)
    }
}

/// Counts for a progress line.
public struct Progress: Sendable {
    /// Outcomes so far.
    public var counts: OutcomeCounts
    /// Tasks waiting for a worker.
    public var queued: Int
    /// Workers running a task.
    public var busy: Int
    /// Live workers.
    public var workers: Int
    /// True once every kind has produced all its tasks.
    public var inputExhausted: Bool
    /// Seconds since the start.
    public var elapsed: Double
    /// Each kind's own units of work (e.g. proofs), for kinds that count them.
    public var units: [(kind: String, progress: UnitProgress)]
}

/// A task kind's own count of work done, reported through the ABI's progress extension.
public struct UnitProgress: Sendable, Hashable {
    /// What is counted, plural ("proofs").
    public var unit: String
    /// Units done so far.
    public var done: UInt64
    /// Units in the run (0 when unknown).
    public var total: UInt64

    /// Creates a count.
    public init(unit: String, done: UInt64, total: UInt64) {
        self.unit = unit
        self.done = done
        self.total = total
    }
}

/// Seconds as nanoseconds, clamped to [0, about 100 years] so no configuration can overflow.
func nanoseconds(fromSeconds seconds: Double) -> UInt64 {
    guard seconds.isFinite, seconds > 0 else { return 0 }
    return UInt64(min(seconds, 3.0e9) * 1e9)
}

/// Writes a line to the host's stderr.
func printToStandardError(_ line: String) {
    StandardStreams.writeLine(line, to: 2)
}
