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
    var writeFailed = false

    init(writer: FrameWriter) {
        self.writer = writer
    }

    func reset(taskID: UInt64) {
        self.taskID = taskID
        hasResponse = false
        if response.capacity > 1 << 20 { response = [] }  // Do not keep a huge response's storage.
        failure = nil
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
                try session.writer.write(type: .feedback, id: session.taskID, payload: UnsafeRawBufferPointer(start: data, count: len))
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
        if status == 0, hasResponse {
            try writer.write(type: .response, id: taskID, payload: response)
        } else {
            let message = failure ?? (status == 0 ? "plugin returned no response" : "perform failed with status \(status)")
            try writer.write(Frame(type: .error, id: taskID, payload: Array(message.utf8)))
        }
    }

    private static func from(_ context: UnsafePointer<ph_perform_context>?) -> PerformSession {
        Unmanaged<PerformSession>.fromOpaque(context!.pointee.host_data!).takeUnretainedValue()
    }
}
