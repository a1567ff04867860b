// The ABI edge: every C pointer and C function pointer PluginKit receives is used here and
// nowhere else (apart from BinaryReader's bounds-checked cursor over a borrowed buffer). The
// rest of PluginKit sees only Swift values and the small views and sinks defined in this file,
// which are valid for the duration of one callback.

import PluginABI

// MARK: - Borrowed inputs

/// A `ph_bytes` view borrowed for one callback.
@usableFromInline
struct BorrowedBytes {
    @usableFromInline
    let raw: ph_bytes

    init(_ raw: ph_bytes) {
        self.raw = raw
    }

    /// True when the host passed no bytes at all (`data == NULL`), e.g. the task of an idle
    /// worker that died.
    @inlinable
    var isAbsent: Bool { raw.data == nil }

    /// Decodes one value that must fill the bytes exactly.
    @inlinable
    func decode<T: BinaryDecodable>(_ type: T.Type) throws(BinaryDecodingError) -> T {
        guard let data = raw.data else {
            guard raw.len == 0 else {
                throw BinaryDecodingError(.lengthOutOfRange, at: 0, "a NULL byte view claims \(raw.len) bytes")
            }
            return try T(decodingAll: UnsafeBufferPointer(start: nil, count: 0))
        }
        return try T(decodingAll: UnsafeBufferPointer(start: data, count: raw.len))
    }
}

/// A `ph_worker_status` borrowed for one callback.
@usableFromInline
struct RawWorkerStatus {
    /// True for an old worker.
    @usableFromInline
    var isOld: Bool
    /// The competence bytes (meaningful only when old).
    @usableFromInline
    var competence: BorrowedBytes
    /// The worker's name, borrowed (`nil` for a worker yet to be born).
    @usableFromInline
    var name: UnsafePointer<CChar>?

    init(_ status: UnsafePointer<ph_worker_status>?) {
        name = status?.pointee.worker_name
        guard let status, status.pointee.is_old != 0 else {
            isOld = false
            competence = BorrowedBytes(ph_bytes(data: nil, len: 0))
            return
        }
        isOld = true
        competence = BorrowedBytes(status.pointee.competence)
    }

    /// The name as a Swift string (short names are stored inline: no allocation).
    @usableFromInline
    var nameString: String? { name.map { String(cString: $0) } }
}

/// A C string borrowed for one callback, as a Swift string (`""` for NULL; invalid UTF-8 is
/// repaired).
private func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

// MARK: - Sinks

/// Calls `body` with the bytes of `writer` as a C (pointer, length) pair.
private func withBytes(of writer: BinaryWriter, _ body: (UnsafeRawPointer?, Int) -> Void) {
    writer.bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

/// The `ph_request_sink` of one `request_of_task` call.
@usableFromInline
struct RequestSink {
    let sink: UnsafePointer<ph_request_sink>?

    @usableFromInline
    func setRequest(_ writer: BinaryWriter) {
        guard let sink, let setRequest = sink.pointee.set_request else { return }
        withBytes(of: writer) { setRequest(sink, $0, $1) }
    }

    @usableFromInline
    func setMarshalError(_ message: String) {
        guard let sink, let setMarshalError = sink.pointee.set_marshal_error else { return }
        message.withCString { setMarshalError(sink, $0) }
    }
}

/// The `ph_response_sink` of one `use_response`, `on_marshal_error` or `on_task_lost` call.
@usableFromInline
struct ResponseSink {
    let sink: UnsafePointer<ph_response_sink>?

    @usableFromInline
    func stay(_ competence: BinaryWriter) {
        guard let sink, let stay = sink.pointee.stay else { return }
        withBytes(of: competence) { stay(sink, $0, $1) }
    }

    @usableFromInline
    func pushTask(_ task: BinaryWriter, priority: Int32) {
        guard let sink, let pushTask = sink.pointee.push_task else { return }
        withBytes(of: task) { pushTask(sink, $0, $1, priority) }
    }

    @usableFromInline
    func resolve(_ outcome: TaskVerdict) {
        guard let sink, let resolve = sink.pointee.resolve else { return }
        switch outcome {
        case .done: resolve(sink, PH_OUTCOME_DONE, "")
        case .failed(let message): message.withCString { resolve(sink, PH_OUTCOME_FAILED, $0) }
        }
    }
}

/// The `ph_report_sink` of `finish`.
@usableFromInline
struct ReportSink {
    let sink: UnsafePointer<ph_report_sink>?

    @usableFromInline
    func write(_ text: String) {
        guard let sink, let write = sink.pointee.write else { return }
        text.withCString { write(sink, $0) }
    }

    @usableFromInline
    func setExitStatus(_ status: Int32) {
        guard let sink, let setExitStatus = sink.pointee.set_exit_status else { return }
        setExitStatus(sink, status)
    }
}

/// The `ph_name_sink` of `name_of_task` or `name_of_request`.
@usableFromInline
struct NameSink {
    let sink: UnsafePointer<ph_name_sink>?

    @usableFromInline
    func setName(_ name: String) {
        guard let sink, let setName = sink.pointee.set_name else { return }
        name.withCString { setName(sink, $0) }
    }
}

/// The `ph_perform_context` of one `perform` call.
@usableFromInline
struct PerformChannel {
    let context: UnsafePointer<ph_perform_context>

    @usableFromInline
    func respond(_ response: BinaryWriter) {
        guard let respond = context.pointee.respond else { return }
        withBytes(of: response) { respond(context, $0, $1) }
    }

    @usableFromInline
    func feedback(_ message: BinaryWriter) {
        guard let feedback = context.pointee.feedback else { return }
        withBytes(of: message) { feedback(context, $0, $1) }
    }

    @usableFromInline
    var shouldStop: Bool {
        guard let shouldStop = context.pointee.should_stop else { return false }
        return shouldStop(context) != 0
    }

    @usableFromInline
    func fail(_ message: String) {
        guard let fail = context.pointee.fail else { return }
        message.withCString { fail(context, $0) }
    }

    /// Fails the task and keeps the worker ("ph.task-failure/1"); returns true. A host without
    /// the extension gets a marshal error with the same message instead (`fail`): returns false.
    @usableFromInline
    func failTask(_ message: String) -> Bool {
        guard let table = context.pointee.get_extension?(context, PH_EXT_TASK_FAILURE)?
                .assumingMemoryBound(to: ph_worker_task_failure.self),
              let failTask = table.pointee.fail_task
        else {
            fail(message)
            return false
        }
        message.withCString { failTask(context, $0) }
        return true
    }

    @usableFromInline
    func openBlob(_ reference: [UInt8]) -> Result<Int32, BlobError> {
        guard let table = context.pointee.get_extension?(context, PH_EXT_BLOBS)?.assumingMemoryBound(to: ph_worker_blobs.self),
              let open = table.pointee.open
        else { return .failure(BlobError(message: "this host does not offer blobs (\(PH_EXT_BLOBS))")) }
        var error = [CChar](repeating: 0, count: 512)
        let descriptor = reference.withUnsafeBufferPointer { bytes in
            error.withUnsafeMutableBufferPointer { open(context, bytes.baseAddress, bytes.count, $0.baseAddress, $0.count) }
        }
        if descriptor >= 0 { return .success(descriptor) }
        let message = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return .failure(BlobError(message: message.isEmpty ? "the blob could not be opened" : message))
    }
}

/// The `ph_master_host` of one run, valid from `master_open` until `finish` (or a failed open),
/// after which every call does nothing.
@usableFromInline
final class MasterHostChannel {
    private var host: UnsafePointer<ph_master_host>?
    // A counter the session's own callbacks bump around user code; no access can overlap.
    @usableFromInline @exclusivity(unchecked)
    var pushDepth = 0
    /// The buffer tasks and broadcasts are encoded into before they are handed over.
    @usableFromInline
    let writers = WriterPool()

    /// The host's progress extension (`PH_EXT_PROGRESS`), when it offers one.
    private let progress: UnsafePointer<ph_master_progress>?
    /// The host's blobs extension (`PH_EXT_BLOBS`), when it offers one.
    private let blobs: UnsafePointer<ph_master_blobs>?

    init(_ host: UnsafePointer<ph_master_host>) {
        self.host = host
        progress = host.pointee.get_extension?(host, PH_EXT_PROGRESS)?.assumingMemoryBound(to: ph_master_progress.self)
        blobs = host.pointee.get_extension?(host, PH_EXT_BLOBS)?.assumingMemoryBound(to: ph_master_blobs.self)
    }

    @usableFromInline
    func publishBlob(_ descriptor: Int32) -> UInt64 {
        guard let host, let publish = blobs?.pointee.publish_fd else { return 0 }
        return publish(host, descriptor)
    }

    @usableFromInline
    func blobReference(_ blob: UInt64, worker: String) -> [UInt8]? {
        guard let host, let reference = blobs?.pointee.reference else { return nil }
        var out = [UInt8](repeating: 0, count: Int(PH_BLOB_REFERENCE_MAX))
        let length = worker.withCString { name in
            out.withUnsafeMutableBufferPointer { reference(host, blob, name, $0.baseAddress, $0.count) }
        }
        guard length > 0 else { return nil }
        return Array(out.prefix(length))
    }

    @usableFromInline
    func setProgressTotal(_ total: UInt64, unit: String) {
        guard let host, let setTotal = progress?.pointee.set_total else { return }
        unit.withCString { setTotal(host, $0, total) }
    }

    @usableFromInline
    func advanceProgress(by units: UInt64) {
        guard let host, let advance = progress?.pointee.advance else { return }
        advance(host, units)
    }

    /// True while the host is in a callback from which the ABI allows `push_task`.
    @usableFromInline
    var isPushAllowed: Bool { pushDepth > 0 && host != nil }

    /// Runs `body` (a callback from which the ABI allows `push_task`) with pushes allowed.
    @inlinable
    func allowingPush<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        pushDepth += 1
        defer { pushDepth -= 1 }
        return try body()
    }

    @usableFromInline
    func pushTask(_ task: BinaryWriter, priority: Int32, timeoutMilliseconds: UInt32) {
        guard let host, let pushTask = host.pointee.push_task else { return }
        withBytes(of: task) { pushTask(host, $0, $1, priority, timeoutMilliseconds) }
    }

    @usableFromInline
    func broadcast(_ feedback: BinaryWriter) {
        guard let host, let broadcast = host.pointee.broadcast else { return }
        withBytes(of: feedback) { broadcast(host, $0, $1) }
    }

    @usableFromInline
    func log(_ message: String, level: LogLevel) {
        guard let host, let log = host.pointee.log else { return }
        message.withCString { log(host, level.rawValue, $0) }
    }

    /// Forgets the host table: the ABI makes it invalid after `finish`.
    @usableFromInline
    func invalidate() {
        host = nil
    }
}

// MARK: - Instances

extension MasterCallbacks {
    /// The callbacks behind a master instance pointer returned by `master_open`, which retained
    /// them; `finish` releases them.
    fileprivate static func of(_ pointer: UnsafeMutableRawPointer?) -> MasterCallbacks? {
        guard let pointer else { return nil }
        return Unmanaged<MasterCallbacks>.fromOpaque(pointer).takeUnretainedValue()
    }
}

extension WorkerCallbacks {
    /// The callbacks behind a worker instance pointer returned by `worker_init`, which retained
    /// them; `worker_fini` releases them (a worker killed instead keeps them until it dies).
    fileprivate static func of(_ pointer: UnsafeMutableRawPointer?) -> WorkerCallbacks? {
        guard let pointer else { return nil }
        return Unmanaged<WorkerCallbacks>.fromOpaque(pointer).takeUnretainedValue()
    }
}

// MARK: - The descriptor

/// The descriptor's strings: NUL-terminated copies allocated once per library and never freed,
/// as the ABI requires of descriptor strings. Immutable, hence safe to share between threads.
struct DescriptorStrings: @unchecked Sendable {
    let name: UnsafePointer<CChar>
    let version: UnsafePointer<CChar>
    let description: UnsafePointer<CChar>
    let usage: UnsafePointer<CChar>

    init(name: String, version: String, description: String, usage: String) {
        self.name = Self.immortalCString(name)
        self.version = Self.immortalCString(version)
        self.description = Self.immortalCString(description)
        self.usage = Self.immortalCString(usage)
    }

    private static func immortalCString(_ string: String) -> UnsafePointer<CChar> {
        let characters = string.utf8CString
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: characters.count)
        characters.withUnsafeBufferPointer { storage.initialize(from: $0.baseAddress!, count: $0.count) }
        return UnsafePointer(storage)
    }
}

/// Writes descriptors.
enum DescriptorFiller {
    /// Writes only the ABI version, for a host that will be refused.
    static func fillVersionOnly(_ out: UnsafeMutablePointer<ph_plugin_descriptor>) {
        var descriptor = ph_plugin_descriptor()
        descriptor.abi_major = PluginExport.abiVersion.major
        descriptor.abi_minor = PluginExport.abiVersion.minor
        out.pointee = descriptor
    }

    /// Writes the full descriptor of a registered kind.
    static func fill(_ out: UnsafeMutablePointer<ph_plugin_descriptor>, with registration: KindRegistration) {
        var descriptor = ph_plugin_descriptor()
        descriptor.abi_major = PluginExport.abiVersion.major
        descriptor.abi_minor = PluginExport.abiVersion.minor
        descriptor.name = registration.strings.name
        descriptor.version = registration.strings.version
        descriptor.description = registration.strings.description
        descriptor.usage = registration.strings.usage
        descriptor.default_policy = registration.defaultPolicy == .persistent ? PH_POLICY_PERSISTENT : PH_POLICY_ONE_SHOT

        descriptor.master_open = { host, params, errors in MasterThunks.open(host, params, errors) }
        descriptor.pull = { master, max in
            MasterCallbacks.of(master)?.pull(Int(max)) == .moreMayCome ? 1 : 0
        }
        descriptor.task_match = { master, status, task in
            guard let callbacks = MasterCallbacks.of(master) else { return 1 }
            return callbacks.taskMatch(BorrowedBytes(task), RawWorkerStatus(status)) ? 1 : 0
        }
        descriptor.request_of_task = { master, status, task, out in
            MasterThunks.requestOfTask(master, status, task, out)
        }
        descriptor.use_response = { master, status, task, response, out in
            guard let callbacks = MasterCallbacks.of(master) else {
                ResponseSink(sink: out).resolve(.failed("PluginKit: use_response without a master instance"))
                return
            }
            callbacks.useResponse(BorrowedBytes(response), BorrowedBytes(task), RawWorkerStatus(status), ResponseSink(sink: out))
        }
        descriptor.on_marshal_error = { master, message, task, out in
            MasterCallbacks.of(master)?.marshalError(string(message), BorrowedBytes(task), ResponseSink(sink: out))
        }
        descriptor.on_task_lost = { master, task, reason, message, willRetry, out in
            MasterCallbacks.of(master)?.taskLost(
                BorrowedBytes(task), LossReason(rawValue: reason.rawValue), string(message), willRetry != 0,
                ResponseSink(sink: out))
        }
        descriptor.forward_feedback = { master, worker, feedback in
            MasterCallbacks.of(master)?.feedback(BorrowedBytes(feedback), string(worker))
        }
        descriptor.finish = { master, summary, out in MasterThunks.finish(master, summary, out) }
        descriptor.name_of_task = { master, task, out in
            MasterCallbacks.of(master)?.nameOfTask(BorrowedBytes(task), NameSink(sink: out))
        }
        descriptor.name_of_request = { master, request, out in
            MasterCallbacks.of(master)?.nameOfRequest(BorrowedBytes(request), NameSink(sink: out))
        }

        descriptor.worker_init = { params in WorkerThunks.start(params) }
        descriptor.perform = { worker, request, context in WorkerThunks.perform(worker, request, context) }
        descriptor.on_broadcast = { worker, feedback in
            WorkerCallbacks.of(worker)?.receiveBroadcast(BorrowedBytes(feedback))
        }
        descriptor.worker_fini = { worker in WorkerThunks.finish(worker) }
        descriptor.get_extension = { id in
            guard let id, String(cString: id) == PH_EXT_JOURNAL else { return nil }
            return UnsafeRawPointer(JournalTable.pointer)
        }
        out.pointee = descriptor
    }
}

/// The "ph.journal/1" table every PluginKit plugin offers: it asks the kind (``TaskKind/journalRefusal()``,
/// ``TaskKind/journalIdentity()``). Allocated once, never freed, as the ABI requires.
private enum JournalTable {
    nonisolated(unsafe) static let pointer: UnsafeMutablePointer<ph_plugin_journal> = {
        let table = UnsafeMutablePointer<ph_plugin_journal>.allocate(capacity: 1)
        table.initialize(to: ph_plugin_journal(
            replayable: { master, why in
                guard let refusal = MasterCallbacks.of(master)?.journalRefusal() else { return 1 }
                refusal.withCString { why?.pointee.set_error?(why, $0) }
                return 0
            },
            identity: { master, out in
                guard let identity = MasterCallbacks.of(master)?.journalIdentity(), !identity.isEmpty else { return }
                identity.withUnsafeBytes { out?.pointee.set_request?(out, $0.baseAddress, $0.count) }
            }))
        return table
    }()
}

// MARK: - Thunk bodies too long for a closure

/// Master-side callbacks with more than a line of work.
private enum MasterThunks {
    static func open(
        _ host: UnsafePointer<ph_master_host>?, _ params: UnsafePointer<ph_open_params>?,
        _ errors: UnsafePointer<ph_error_sink>?
    ) -> UnsafeMutableRawPointer? {
        func refuse(_ message: String) -> UnsafeMutableRawPointer? {
            if let errors, let setError = errors.pointee.set_error {
                message.withCString { setError(errors, $0) }
            }
            return nil
        }
        guard let host, let params else { return refuse("PluginKit: master_open needs a host and parameters") }
        guard let driver = KindRegistry.driver else {
            return refuse("PluginKit: master_open called before the plugin's entry point")
        }
        let policy: WorkerPolicy
        switch params.pointee.policy {
        case PH_POLICY_ONE_SHOT: policy = .oneShot
        case PH_POLICY_PERSISTENT: policy = .persistent
        default: return refuse("PluginKit: unknown worker policy \(params.pointee.policy.rawValue)")
        }
        var argv: [String] = []
        if let pointers = params.pointee.argv, params.pointee.argc > 0 {
            argv.reserveCapacity(Int(params.pointee.argc))
            for index in 0..<Int(params.pointee.argc) {
                argv.append(string(pointers[index]))
            }
        }
        let parameters = OpenParameters(
            commandName: argv.first ?? "", arguments: Array(argv.dropFirst()), policy: policy,
            maxWorkers: Int(params.pointee.max_workers))
        switch driver.openMaster(parameters, MasterHostChannel(host)) {
        case .success(let callbacks):
            return Unmanaged.passRetained(callbacks).toOpaque()
        case .failure(let error):
            return refuse(error.message)
        }
    }

    static func requestOfTask(
        _ master: UnsafeMutableRawPointer?, _ status: UnsafePointer<ph_worker_status>?, _ task: ph_bytes,
        _ out: UnsafePointer<ph_request_sink>?
    ) -> ph_request_result {
        let sink = RequestSink(sink: out)
        guard let callbacks = MasterCallbacks.of(master) else {
            sink.setMarshalError("PluginKit: request_of_task without a master instance")
            return PH_REQUEST_READY
        }
        switch callbacks.requestOfTask(BorrowedBytes(task), RawWorkerStatus(status), sink) {
        case .ready: return PH_REQUEST_READY
        case .obsolete: return PH_REQUEST_OBSOLETE
        }
    }

    static func finish(
        _ master: UnsafeMutableRawPointer?, _ summary: UnsafePointer<ph_run_summary>?,
        _ out: UnsafePointer<ph_report_sink>?
    ) {
        guard let master else { return }
        let instance = Unmanaged<MasterCallbacks>.fromOpaque(master)
        let counts = summary?.pointee ?? ph_run_summary()
        instance.takeUnretainedValue().finish(
            RunSummary(
                done: counts.done, failed: counts.failed, cancelled: counts.cancelled, expired: counts.expired,
                skipped: counts.skipped),
            ReportSink(sink: out))
        instance.release()
    }
}

/// Worker-side callbacks with more than a line of work.
private enum WorkerThunks {
    static func start(_ params: UnsafePointer<ph_worker_params>?) -> UnsafeMutableRawPointer? {
        let name = string(params?.pointee.worker_name)
        let callbacks =
            KindRegistry.driver?.startWorker(name)
            ?? WorkerCallbacks.failing("PluginKit: worker_init called before the plugin's entry point")
        return Unmanaged.passRetained(callbacks).toOpaque()
    }

    static func perform(
        _ worker: UnsafeMutableRawPointer?, _ request: ph_bytes, _ context: UnsafePointer<ph_perform_context>?
    ) -> Int32 {
        guard let context else { return 1 }
        let channel = PerformChannel(context: context)
        guard let callbacks = WorkerCallbacks.of(worker) else {
            channel.fail("PluginKit: perform called without a worker instance (worker_init did not run)")
            return 1
        }
        return callbacks.perform(BorrowedBytes(request), channel) ? 0 : 1
    }

    /// `worker_fini`: runs the worker's finish hook, then releases what `worker_init` retained.
    static func finish(_ worker: UnsafeMutableRawPointer?) {
        guard let worker else { return }
        let instance = Unmanaged<WorkerCallbacks>.fromOpaque(worker)
        instance.takeUnretainedValue().finish()
        instance.release()
    }
}
