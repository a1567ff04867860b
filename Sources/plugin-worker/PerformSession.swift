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
    var response: [UInt8]?
    var failure: String?
    var writeFailed = false
    /// Held around each frame write when another thread (the heartbeat) writes too.
    let writeLock: WriteLock?

    init(writer: FrameWriter, writeLock: WriteLock? = nil) {
        self.writer = writer
        self.writeLock = writeLock
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
        response = nil
        failure = nil
    }

    /// Runs `perform` for one request and writes its outcome frame.
    func run(plugin: PluginLibrary, worker: UnsafeMutableRawPointer?, request: Frame) throws(SystemError) {
        reset(taskID: request.id)
        var context = ph_perform_context()
        context.host_data = Unmanaged.passUnretained(self).toOpaque()
        context.respond = { ctx, data, len in
            PerformSession.from(ctx).response = Array(UnsafeRawBufferPointer(start: data, count: len))
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
        context.fail = { ctx, message in
            PerformSession.from(ctx).failure = message.map { String(cString: $0) } ?? "request failed"
        }
        csupport_set_performing(1)
        let status = request.payload.withUnsafeBufferPointer { bytes in
            plugin.descriptor.perform(worker, ph_bytes(data: bytes.baseAddress, len: bytes.count), &context)
        }
        csupport_set_performing(0)
        if writeFailed { throw SystemError(code: EPIPE) }
        if status == 0, let response {
            try write(type: .response, id: taskID, bytes: response)
        } else {
            let message = failure ?? (status == 0 ? "plugin returned no response" : "perform failed with status \(status)")
            try write(type: .error, id: taskID, bytes: Array(message.utf8))
        }
    }

    private static func from(_ context: UnsafePointer<ph_perform_context>?) -> PerformSession {
        Unmanaged<PerformSession>.fromOpaque(context!.pointee.host_data!).takeUnretainedValue()
    }
}
