import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The state of one `perform` call, reached from the C callbacks through `host_data`.
final class PerformSession {
    var writer: FrameWriter
    var taskID: UInt64 = 0
    /// The response set by `respond` (valid when `hasResponse`); its storage is reused.
    var response: [UInt8] = []
    var hasResponse = false
    var failure: String?
    /// The message of `fail_task` ("ph.task-failure/1"), when the plugin failed the task.
    var taskFailure: String?
    var writeFailed = false
    /// Held around each frame write when another thread (the heartbeat) writes too.
    let writeLock: WriteLock?
    /// Frames from the master: a blob fetch reads its chunks here, inside a request.
    let source: FrameSource
    /// This machine's blob cache, made on first use.
    private lazy var cache = BlobCache()

    init(writer: FrameWriter, writeLock: WriteLock?, source: FrameSource) {
        self.writer = writer
        self.writeLock = writeLock
        self.source = source
    }

    /// Opens a blob reference (`PH_EXT_BLOBS`): the master's own file on this machine,
    /// else the cached copy, fetched from the master first when missing.
    func openBlob(_ bytes: UnsafeRawBufferPointer) -> Result<Int32, BlobFailure> {
        switch BlobReference(decoding: bytes) {
        case nil:
            return .failure(BlobFailure("not a blob reference (\(bytes.count) bytes)"))
        case .local(let path)?:
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return .failure(BlobFailure("cannot open the master's file \(path): \(errnoText())")) }
            return .success(descriptor)
        case .content(let digest, let size)?:
            return cache.open(digest: digest, size: size) { destination in fetch(digest: digest, into: destination) }
        }
    }

    /// Asks the master for a blob and writes its chunks to `destination`; nil on success.
    private func fetch(digest: [UInt8], into destination: Int32) -> String? {
        do {
            try write(type: .blobRequest, id: taskID, bytes: digest)
        } catch {
            return "cannot ask the master for the blob: \(error)"
        }
        while true {
            switch source.next() {
            case .frame(let frame) where frame.type == .blobData:
                let failure = frame.payload.withUnsafeBytes { Descriptor(destination).writeAllResult($0) }
                if let failure { return "cannot write the blob to the cache: \(failure)" }
            case .frame(let frame) where frame.type == .blobEnd:
                return frame.payload.isEmpty ? nil : "the master could not send the blob: " + String(decoding: frame.payload, as: UTF8.self)
            case .frame(let frame):
                return "unexpected \(frame.type) frame from the master during a blob transfer"
            case .end:
                exit(0)  // The master is gone.
            case .failure(let message):
                return message
            }
        }
    }

    /// Writes one frame with an array payload, under the write lock when there is one.
    func write(type: FrameType, id: UInt64, bytes: [UInt8]) throws(SystemError) {
        writeLock?.lock()
        defer { writeLock?.unlock() }
        try writer.write(type: type, id: id, payload: bytes)
    }

    /// Writes one frame, under the write lock when there is one.
    func write(type: FrameType, id: UInt64, payload: UnsafeRawBufferPointer) throws(SystemError) {
        writeLock?.lock()
        defer { writeLock?.unlock() }
        try writer.write(type: type, id: id, payload: payload)
    }

    func reset(taskID: UInt64) {
        self.taskID = taskID
        hasResponse = false
        if response.capacity > 1 << 20 { response = [] }  // Do not keep a huge response's storage.
        failure = nil
        taskFailure = nil
    }

    /// Runs `perform` for one request and writes its outcome frame.
    func run(plugin: PluginLibrary, worker: UnsafeMutableRawPointer?, request: ReceivedFrame) throws(SystemError) {
        reset(taskID: request.id)
        var context = ph_perform_context()
        context.host_data = Unmanaged.passUnretained(self).toOpaque()
        context.respond = { ctx, data, len in
            let session = PerformSession.from(ctx)
            session.response.removeAll(keepingCapacity: true)
            if let data, len > 0 {
                UnsafeRawBufferPointer(start: data, count: len).withMemoryRebound(to: UInt8.self) {
                    session.response.append(contentsOf: $0)
                }
            }
            session.hasResponse = true
        }
        context.feedback = { ctx, data, len in
            let session = PerformSession.from(ctx)
            do {
                try session.write(type: .feedback, id: session.taskID, payload: UnsafeRawBufferPointer(start: data, count: len))
            } catch {
                session.writeFailed = true
            }
        }
        context.should_stop = { _ in csupport_stop_requested() }
        // Never NULL (ABI 2): a plugin calls it without checking; unknown ids give NULL.
        context.get_extension = { _, id in
            guard let id else { return nil }
            if strcmp(id, PH_EXT_BLOBS) == 0 { return UnsafeRawPointer(workerBlobsExtension) }
            if strcmp(id, PH_EXT_TASK_FAILURE) == 0 { return UnsafeRawPointer(workerTaskFailureExtension) }
            return nil
        }
        context.fail = { ctx, message in
            PerformSession.from(ctx).failure = message.map { String(cString: $0) } ?? "request failed"
        }
        csupport_set_performing(1)
        let status = request.payload.withUnsafeBufferPointer { bytes in
            plugin.descriptor.perform(worker, ph_bytes(data: bytes.baseAddress, len: bytes.count), &context)
        }
        csupport_set_performing(0)
        // What the plugin printed goes out before its answer: a one-shot worker is killed as soon
        // as the master has the answer, and a stdio buffer would die with it.
        fflush(nil)
        if writeFailed { throw SystemError(code: EPIPE) }
        // The rule of ph/ext/task-failure.h: a task failure wins over the return value and a
        // response; only `fail` (a marshal error) wins over it.
        if failure == nil, let taskFailure {
            try write(type: .taskFailure, id: taskID, bytes: Array(taskFailure.utf8))
        } else if status == 0, hasResponse {
            try write(type: .response, id: taskID, bytes: response)
        } else {
            let message = failure ?? (status == 0 ? "plugin returned no response" : "perform failed with status \(status)")
            try write(type: .error, id: taskID, bytes: Array(message.utf8))
        }
    }

    /// The session behind a perform context.
    static func from(_ context: UnsafePointer<ph_perform_context>?) -> PerformSession {
        Unmanaged<PerformSession>.fromOpaque(context!.pointee.host_data!).takeUnretainedValue()
    }
}

/// The `ph_worker_task_failure` table every request's context hands out.
nonisolated(unsafe) let workerTaskFailureExtension: UnsafeMutablePointer<ph_worker_task_failure> = {
    let table = UnsafeMutablePointer<ph_worker_task_failure>.allocate(capacity: 1)
    table.initialize(to: ph_worker_task_failure(fail_task: { ctx, message in
        PerformSession.from(ctx).taskFailure = message.map { String(cString: $0) } ?? "task failed"
    }))
    return table
}()

/// The `ph_worker_blobs` table every request's context hands out.
nonisolated(unsafe) let workerBlobsExtension: UnsafeMutablePointer<ph_worker_blobs> = {
    let table = UnsafeMutablePointer<ph_worker_blobs>.allocate(capacity: 1)
    table.initialize(to: ph_worker_blobs(open: { ctx, reference, length, error, capacity in
        let session = Unmanaged<PerformSession>.fromOpaque(ctx!.pointee.host_data!).takeUnretainedValue()
        switch session.openBlob(UnsafeRawBufferPointer(start: reference, count: reference == nil ? 0 : length)) {
        case .success(let descriptor):
            return descriptor
        case .failure(let failure):
            if let error, capacity > 0 {
                let bytes = Array(failure.message.utf8.prefix(capacity - 1))
                for (index, byte) in bytes.enumerated() { error[index] = CChar(bitPattern: byte) }
                error[bytes.count] = 0
            }
            return -1
        }
    }))
    return table
}()
