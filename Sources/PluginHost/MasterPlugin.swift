import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The master side of one loaded task kind: the plugin's master instance behind safe Swift calls.
///
/// This file is the host's ABI edge: every C callback of the master side is called here, with
/// sinks whose `host_data` points at a ``MasterCallState`` that copies what the plugin hands over.
/// Calls are not thread-safe; the scheduler serialises them under its lock.
final class MasterPlugin: @unchecked Sendable {
    let library: PluginLibrary
    /// The plugin's own arguments, as opened (part of a journal's identity).
    let arguments: [String]
    private let host: UnsafeMutablePointer<ph_master_host>
    private let progressExtension: UnsafeMutablePointer<ph_master_progress>
    private let blobsExtension: UnsafeMutablePointer<ph_master_blobs>
    private let checkpointExtension: UnsafeMutablePointer<ph_master_checkpoint>
    let state = MasterCallState()
    private var instance: UnsafeMutableRawPointer?
    private var finished = false
    /// The plugin's name as a C string, for the crash guard's line (never freed while a call runs).
    private let crashName: UnsafeMutablePointer<CChar>
    /// Told of every call during the run, to warn about one that holds the host (set before the
    /// run starts, under the scheduler's lock).
    var callMonitor: MasterCallMonitor?

    private var descriptor: ph_plugin_descriptor { library.descriptor }

    /// Opens the plugin's master side: parses its arguments and collects its initial tasks.
    init(library: PluginLibrary, arguments: [String], policy: WorkerPolicy, maxWorkers: Int,
         blobs: BlobStore = BlobStore()) throws(HostError) {
        self.library = library
        self.arguments = arguments
        crashName = strdup(library.name)
        csupport_crash_guard_install()
        state.blobs = blobs
        host = .allocate(capacity: 1)
        host.initialize(to: ph_master_host())
        host.pointee.host_data = Unmanaged.passUnretained(state).toOpaque()
        host.pointee.push_task = { host, data, len, priority, timeout in
            MasterCallState.from(host?.pointee.host_data).addPush(
                PushedTask(bytes: copyBytes(data, len), priority: priority, timeoutMilliseconds: timeout, isFollowUp: false))
        }
        host.pointee.broadcast = { host, data, len in
            MasterCallState.from(host?.pointee.host_data).addBroadcast(copyBytes(data, len))
        }
        host.pointee.log = { host, level, message in
            MasterCallState.from(host?.pointee.host_data).addLog(level, message.map { String(cString: $0) } ?? "")
        }
        progressExtension = .allocate(capacity: 1)
        progressExtension.initialize(to: ph_master_progress(
            set_total: { host, unit, total in
                let state = MasterCallState.from(host?.pointee.host_data)
                state.units = UnitProgress(unit: unit.map { String(cString: $0) } ?? "units", done: state.units?.done ?? 0, total: total)
            },
            advance: { host, units in
                let state = MasterCallState.from(host?.pointee.host_data)
                if state.units == nil { state.units = UnitProgress(unit: "units", done: 0, total: 0) }
                state.units!.done &+= units
            }))
        state.progressExtension = UnsafeRawPointer(progressExtension)
        blobsExtension = .allocate(capacity: 1)
        blobsExtension.initialize(to: ph_master_blobs(
            publish_fd: { host, descriptor in
                MasterCallState.from(host?.pointee.host_data).blobs?.publish(descriptor: descriptor) ?? 0
            },
            reference: { host, blob, worker, out, capacity in
                guard let worker, let out,
                      let reference = MasterCallState.from(host?.pointee.host_data).blobs?
                          .reference(blob, worker: String(cString: worker)),
                      reference.count <= capacity else { return 0 }
                reference.withUnsafeBytes { out.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: reference.count) }
                return reference.count
            }))
        state.blobsExtension = UnsafeRawPointer(blobsExtension)
        checkpointExtension = .allocate(capacity: 1)
        checkpointExtension.initialize(to: ph_master_checkpoint(
            journaled: { host in MasterCallState.from(host?.pointee.host_data).checkpoints == nil ? 0 : 1 },
            record: { host, data, length in
                MasterCallState.from(host?.pointee.host_data).checkpoints?.record(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : length))
            },
            sync_with_journal: { host, descriptor in
                MasterCallState.from(host?.pointee.host_data).checkpoints?.syncWithJournal(descriptor)
            }))
        state.checkpointExtension = UnsafeRawPointer(checkpointExtension)
        // Never NULL (ABI 2): a plugin calls it without checking; unknown ids give NULL.
        host.pointee.get_extension = { host, id in
            guard let id else { return nil }
            let state = MasterCallState.from(host?.pointee.host_data)
            if strcmp(id, PH_EXT_PROGRESS) == 0 { return state.progressExtension }
            if strcmp(id, PH_EXT_BLOBS) == 0 { return state.blobsExtension }
            if strcmp(id, PH_EXT_CHECKPOINT) == 0 { return state.checkpointExtension }
            return nil
        }
        let argv = ([library.name] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var errorSink = ph_error_sink()
        errorSink.host_data = Unmanaged.passUnretained(state).toOpaque()
        errorSink.set_error = { sink, message in
            MasterCallState.from(sink?.pointee.host_data).error = message.map { String(cString: $0) } ?? "usage error"
        }
        let constArgv: [UnsafePointer<CChar>?] = argv.map { UnsafePointer($0) }
        let opened: UnsafeMutableRawPointer? = constArgv.withUnsafeBufferPointer { pointers in
            var params = ph_open_params(argc: Int32(pointers.count), argv: pointers.baseAddress,
                                        policy: policy.abiValue, max_workers: UInt32(maxWorkers))
            return guarded("master_open") { descriptor.master_open(host, &params, &errorSink) }
        }
        if opened == nil, let message = state.error {
            throw .usage("\(library.name): \(message)")
        }
        instance = opened
    }

    deinit {
        free(crashName)
        host.deallocate()
        progressExtension.deallocate()
        blobsExtension.deallocate()
        checkpointExtension.deallocate()
    }

    /// The units of work the plugin counts through the progress extension, if it does.
    var units: UnitProgress? { state.units }

    /// True if the plugin feeds tasks lazily.
    var canPull: Bool { descriptor.pull != nil }

    /// Asks for up to `max` more tasks; returns false once the input is exhausted.
    func pull(max: Int) -> Bool {
        guard let pull = descriptor.pull else { return false }
        return guarded("pull") { pull(instance, UInt32(clamping: max)) != 0 }
    }

    /// Whether `task` suits a worker in `status`.
    func taskMatch(_ status: EncodedWorkerStatus, _ task: [UInt8], worker: String? = nil) -> Bool {
        guard let match = descriptor.task_match else { return true }
        return withStatus(status, worker: worker) { status in
            withBytes(task) { task in guarded("task_match") { match(instance, status, task) != 0 } }
        }
    }

    /// What `request_of_task` decided.
    enum RequestDecision {
        case request([UInt8])
        case obsolete
        case marshalError(String)
    }

    /// Turns a task into a request for a worker in `status`. The request shares the buffer the
    /// next call reuses: copy it out (e.g. into a frame) and let it go before that call.
    func requestOfTask(_ status: EncodedWorkerStatus, _ task: [UInt8], worker: String, taskID: UInt64? = nil) -> RequestDecision {
        state.resetCall()
        var sink = ph_request_sink()
        sink.host_data = Unmanaged.passUnretained(state).toOpaque()
        sink.set_request = { sink, data, len in
            MasterCallState.from(sink?.pointee.host_data).setRequest(data, len)
        }
        sink.set_marshal_error = { sink, message in
            MasterCallState.from(sink?.pointee.host_data).error = message.map { String(cString: $0) } ?? "marshal error"
        }
        let result = withStatus(status, worker: worker) { status in
            withBytes(task) { task in guarded("request_of_task", task: taskID) { descriptor.request_of_task(instance, status, task, &sink) } }
        }
        if result == PH_REQUEST_OBSOLETE { return .obsolete }
        if let error = state.error { return .marshalError(error) }
        guard state.hasRequest else { return .marshalError("request_of_task produced no request") }
        return .request(state.request)
    }

    /// Judges a response. Without `keepDoneMessage`, the message of a `done` resolution is not
    /// copied (nil in the decision): pass false only when nobody would see it.
    func useResponse(_ status: EncodedWorkerStatus, _ task: [UInt8], _ response: ArraySlice<UInt8>, worker: String,
                     taskID: UInt64? = nil, keepDoneMessage: Bool = true) -> Decision {
        state.resetCall()
        state.keepDoneMessage = keepDoneMessage
        defer { state.keepDoneMessage = true }
        // A worker that stays with the competence it had keeps that array (no copy).
        if case .old(let competence) = status { state.currentCompetence = competence }
        defer { state.currentCompetence = nil }
        var sink = makeResponseSink()
        withStatus(status, worker: worker) { status in
            withBytes(task) { task in
                withBytes(response) { response in
                    guarded("use_response", task: taskID) { descriptor.use_response(instance, status, task, response, &sink) }
                }
            }
        }
        return state.decision
    }

    /// Reports a marshal error; the decision says whether the plugin resolved the task.
    func marshalError(_ message: String, task: [UInt8], taskID: UInt64? = nil) -> Decision {
        state.resetCall()
        guard let callback = descriptor.on_marshal_error else { return state.decision }
        var sink = makeResponseSink()
        withBytes(task) { task in guarded("on_marshal_error", task: taskID) { callback(instance, message, task, &sink) } }
        return state.decision
    }

    /// Reports a lost task (or, with `task == nil`, an idle worker's death).
    func taskLost(_ task: [UInt8]?, reason: ph_loss_reason, message: String, willRetry: Bool,
                  taskID: UInt64? = nil) -> Decision {
        state.resetCall()
        guard let callback = descriptor.on_task_lost else { return state.decision }
        var sink = makeResponseSink()
        let reason = reason.seen(byABIMinor: descriptor.abi_minor)
        if let task {
            withBytes(task) { task in
                guarded("on_task_lost", task: taskID) { callback(instance, task, reason, message, willRetry ? 1 : 0, &sink) }
            }
        } else {
            guarded("on_task_lost") { callback(instance, ph_bytes(data: nil, len: 0), reason, message, 0, &sink) }
        }
        return state.decision
    }

    /// Hands one feedback message to the plugin.
    func forwardFeedback(worker: String, _ feedback: ArraySlice<UInt8>) {
        guard let forward = descriptor.forward_feedback else { return }
        withBytes(feedback) { feedback in guarded("forward_feedback") { forward(instance, worker, feedback) } }
    }

    /// Finishes the master side; returns the report text and the exit status the plugin chose.
    func finish(summary: OutcomeCounts) -> (report: String, exitStatus: Int32?) {
        guard !finished else { return ("", nil) }
        finished = true
        state.resetCall()
        guard let finish = descriptor.finish else { return ("", nil) }
        var counts = ph_run_summary(done: UInt64(summary.done), failed: UInt64(summary.failed),
                                    cancelled: UInt64(summary.cancelled), expired: UInt64(summary.expired),
                                    skipped: UInt64(summary.skipped))
        var sink = ph_report_sink()
        sink.host_data = Unmanaged.passUnretained(state).toOpaque()
        sink.write = { sink, text in
            MasterCallState.from(sink?.pointee.host_data).report += text.map { String(cString: $0) } ?? ""
        }
        sink.set_exit_status = { sink, status in
            MasterCallState.from(sink?.pointee.host_data).exitStatus = status
        }
        guarded("finish") { finish(instance, &counts, &sink) }
        return (state.report, state.exitStatus)
    }

    /// A short name for a task, or nil if the plugin gives none.
    func name(ofTask task: [UInt8]) -> String? {
        guard let nameOf = descriptor.name_of_task else { return nil }
        state.name = nil
        var sink = ph_name_sink()
        sink.host_data = Unmanaged.passUnretained(state).toOpaque()
        sink.set_name = { sink, name in
            MasterCallState.from(sink?.pointee.host_data).name = name.map { String(cString: $0) }
        }
        withBytes(task) { task in guarded("name_of_task") { nameOf(instance, task, &sink) } }
        return state.name
    }

    /// Takes the tasks, broadcasts and log lines the plugin produced since the last call.
    func drainSideEffects() -> (pushes: [PushedTask], broadcasts: [[UInt8]], logs: [(UInt32, String)]) {
        state.drainSideEffects()
    }

    /// True when the plugin pushed, broadcast or logged something since the last drain.
    var hasSideEffects: Bool { state.hasSideEffects }

    /// What the kind says about journaling ("ph.journal/1"): nil if it can be replayed, else
    /// why not; and the identity bytes of its inputs (empty if it gives none).
    func journalSupport() -> (refusal: String?, identity: [UInt8]) {
        guard let lookup = descriptor.get_extension,
              let table = lookup(PH_EXT_JOURNAL)?.assumingMemoryBound(to: ph_plugin_journal.self).pointee else {
            return (nil, [])
        }
        var refusal: String?
        if let replayable = table.replayable {
            state.error = nil
            var errorSink = ph_error_sink()
            errorSink.host_data = Unmanaged.passUnretained(state).toOpaque()
            errorSink.set_error = { sink, message in
                MasterCallState.from(sink?.pointee.host_data).error = message.map { String(cString: $0) } ?? "cannot be replayed"
            }
            if guarded("replayable", { replayable(instance, &errorSink) }) == 0 {
                refusal = state.error ?? "cannot be replayed"
            }
        }
        var identity: [UInt8] = []
        if let identify = table.identity {
            state.resetCall()
            var sink = ph_request_sink()
            sink.host_data = Unmanaged.passUnretained(state).toOpaque()
            sink.set_request = { sink, data, len in MasterCallState.from(sink?.pointee.host_data).setRequest(data, len) }
            sink.set_marshal_error = { _, _ in }
            guarded("identity") { identify(instance, &sink) }
            if state.hasRequest { identity = state.request }
        }
        return (refusal, identity)
    }

    /// Whether the kind resumes from checkpoints of its own ("ph.checkpoint/1") rather than by
    /// having its responses replayed.
    func isCheckpointed() -> Bool {
        guard let lookup = descriptor.get_extension,
              let table = lookup(PH_EXT_CHECKPOINT)?.assumingMemoryBound(to: ph_plugin_checkpoint.self).pointee,
              table.resume != nil else { return false }
        guard let checkpointed = table.checkpointed else { return true }
        return guarded("checkpointed") { checkpointed(instance) } != 0
    }

    /// Hands a checkpointed kind its last journaled checkpoint (empty: none) before its first
    /// `pull`. Throws the kind's one line when it refuses (its output does not match).
    func resume(from checkpoint: [UInt8]) throws(HostError) {
        guard let lookup = descriptor.get_extension,
              let resume = lookup(PH_EXT_CHECKPOINT)?.assumingMemoryBound(to: ph_plugin_checkpoint.self).pointee.resume else { return }
        state.error = nil
        var errorSink = ph_error_sink()
        errorSink.host_data = Unmanaged.passUnretained(state).toOpaque()
        errorSink.set_error = { sink, message in
            MasterCallState.from(sink?.pointee.host_data).error = message.map { String(cString: $0) } ?? "cannot resume"
        }
        let resumed = withBytes(checkpoint) { bytes in guarded("resume") { resume(instance, bytes, &errorSink) } }
        if resumed == 0 { throw .usage("--resume: \(library.name): \(state.error ?? "cannot resume")") }
    }

    /// Tasks pushed during the last callback, not yet drained.
    var pendingPushCount: Int { state.pendingPushCount }

    /// Runs one call into the plugin marked for the crash guard: a fatal signal inside it ends the
    /// host with one line naming the plugin and `callback` (see `crash_guard.c`). During the run
    /// the call is also noted for the ``MasterCallMonitor`` (with the task it is about, if any).
    @inline(__always)
    private func guarded<T>(_ callback: StaticString, task: UInt64? = nil, _ body: () -> T) -> T {
        let saved = csupport_crash_scope_enter(crashName, UnsafeRawPointer(callback.utf8Start).assumingMemoryBound(to: CChar.self))
        defer { csupport_crash_scope_leave(saved) }
        guard let callMonitor else { return body() }
        let interrupted = callMonitor.enter(plugin: crashName, callback: callback, task: task)
        defer { callMonitor.leave(restoring: interrupted) }
        return body()
    }

    private func makeResponseSink() -> ph_response_sink {
        var sink = ph_response_sink()
        sink.host_data = Unmanaged.passUnretained(state).toOpaque()
        sink.stay = { sink, data, len in
            let state = MasterCallState.from(sink?.pointee.host_data)
            state.decision.stay = state.competence(data, len)
        }
        sink.push_task = { sink, data, len, priority in
            MasterCallState.from(sink?.pointee.host_data).addPush(
                PushedTask(bytes: copyBytes(data, len), priority: priority, timeoutMilliseconds: 0, isFollowUp: true))
        }
        sink.resolve = { sink, outcome, message in
            let state = MasterCallState.from(sink?.pointee.host_data)
            let done = outcome == PH_OUTCOME_DONE
            state.decision.resolution = (done ? .done : .failed,
                                         done && !state.keepDoneMessage ? nil : message.map { String(cString: $0) })
        }
        return sink
    }

    private func withStatus<T>(_ status: EncodedWorkerStatus, worker: String?, _ body: (UnsafePointer<ph_worker_status>) -> T) -> T {
        func make(_ name: UnsafePointer<CChar>?) -> T {
            switch status {
            case .fresh:
                var value = ph_worker_status(is_old: 0, competence: ph_bytes(data: nil, len: 0), worker_name: name)
                return body(&value)
            case .old(let competence):
                return withBytes(competence) { bytes in
                    var value = ph_worker_status(is_old: 1, competence: bytes, worker_name: name)
                    return body(&value)
                }
            }
        }
        guard let worker else { return make(nil) }
        return worker.withCString { make($0) }
    }
}

/// Borrowed view of a byte array for the duration of `body`. An empty array still gets a
/// non-NULL pointer: the ABI keeps NULL for "no task".
@inline(__always)
func withBytes<T>(_ bytes: [UInt8], _ body: (ph_bytes) -> T) -> T {
    bytes.withUnsafeBufferPointer { withBytes($0, body) }
}

/// Borrowed view of a byte slice (e.g. a payload still in the frame reader's buffer).
@inline(__always)
func withBytes<T>(_ bytes: ArraySlice<UInt8>, _ body: (ph_bytes) -> T) -> T {
    bytes.withUnsafeBufferPointer { withBytes($0, body) }
}

@inline(__always)
private func withBytes<T>(_ buffer: UnsafeBufferPointer<UInt8>, _ body: (ph_bytes) -> T) -> T {
    guard let base = buffer.baseAddress, buffer.count > 0 else {
        return withUnsafePointer(to: emptyByte) { body(ph_bytes(data: $0, len: 0)) }
    }
    return body(ph_bytes(data: base, len: buffer.count))
}

/// Where an empty buffer points.
private let emptyByte: UInt8 = 0

/// Copies a plugin's borrowed buffer.
@inline(__always)
func copyBytes(_ data: UnsafeRawPointer?, _ length: Int) -> [UInt8] {
    guard let data, length > 0 else { return [] }
    return UnsafeRawBufferPointer(start: data, count: length).withMemoryRebound(to: UInt8.self) { Array($0) }
}

/// A task the plugin queued during a callback.
struct PushedTask {
    var bytes: [UInt8]
    var priority: Int32
    var timeoutMilliseconds: UInt32
    /// Pushed from a response sink: a follow-up of the task being judged.
    var isFollowUp: Bool
}

/// What the plugin decided in `use_response` or a loss / marshal-error callback.
struct Decision {
    /// Keep the worker as Old(competence); nil: the worker ends.
    var stay: [UInt8]?
    /// The outcome the plugin set, if any.
    var resolution: (outcome: TaskOutcome, message: String?)?
}

/// Scratch state the C sinks write into during one master-side call.
final class MasterCallState {
    private var pushes: [PushedTask] = []
    private var broadcasts: [[UInt8]] = []
    private var logs: [(UInt32, String)] = []
    /// Whether any of the three lists above is non-empty (one flag for the per-task check).
    private(set) var hasSideEffects = false
    /// The last request set by `request_of_task` (valid when `hasRequest`); its storage is
    /// reused from call to call.
    private(set) var request: [UInt8] = []
    private(set) var hasRequest = false
    /// The judged worker's competence during `use_response`, reused when it stays with the same.
    var currentCompetence: [UInt8]?
    /// False while nobody would see the message of a `done` resolution: it is then not copied.
    var keepDoneMessage = true
    var error: String?
    var decision = Decision()
    var report = ""
    var exitStatus: Int32?
    var name: String?
    /// Units counted through the progress extension.
    var units: UnitProgress?
    /// The run's published files.
    var blobs: BlobStore?
    /// The `ph_master_blobs` table handed out by `get_extension`.
    var blobsExtension: UnsafeRawPointer?
    /// The `ph_master_progress` table handed out by `get_extension`.
    var progressExtension: UnsafeRawPointer?
    /// The `ph_master_checkpoint` table handed out by `get_extension`.
    var checkpointExtension: UnsafeRawPointer?
    /// Where the kind's checkpoints go: set while a journal is open for a checkpointed kind.
    var checkpoints: CheckpointSink?

    var pendingPushCount: Int { pushes.count }

    func addPush(_ task: PushedTask) {
        pushes.append(task)
        hasSideEffects = true
    }

    func addBroadcast(_ payload: [UInt8]) {
        broadcasts.append(payload)
        hasSideEffects = true
    }

    func addLog(_ level: UInt32, _ message: String) {
        logs.append((level, message))
        hasSideEffects = true
    }

    /// Takes the pushes, broadcasts and logs collected so far.
    func drainSideEffects() -> (pushes: [PushedTask], broadcasts: [[UInt8]], logs: [(UInt32, String)]) {
        defer {
            pushes.removeAll()
            broadcasts.removeAll()
            logs.removeAll()
            hasSideEffects = false
        }
        return (pushes, broadcasts, logs)
    }

    func resetCall() {
        hasRequest = false
        if request.capacity > 1 << 20 { request = [] }  // Do not keep a huge request's storage.
        error = nil
        decision = Decision()
    }

    /// Copies the plugin's request into the reused buffer.
    func setRequest(_ data: UnsafeRawPointer?, _ length: Int) {
        request.removeAll(keepingCapacity: true)
        if let data, length > 0 {
            UnsafeRawBufferPointer(start: data, count: length).withMemoryRebound(to: UInt8.self) { request.append(contentsOf: $0) }
        }
        hasRequest = true
    }

    /// The competence a `stay` names: the current one if the bytes are the same, else a copy.
    func competence(_ data: UnsafeRawPointer?, _ length: Int) -> [UInt8] {
        if let current = currentCompetence, current.count == length,
           length == 0 || (data != nil && current.withUnsafeBytes({ memcmp($0.baseAddress!, data!, length) == 0 })) {
            return current
        }
        return copyBytes(data, length)
    }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> MasterCallState {
        Unmanaged<MasterCallState>.fromOpaque(pointer!).takeUnretainedValue()
    }
}
