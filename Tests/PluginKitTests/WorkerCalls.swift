// Starting a plugin's worker and calling its perform function, recording what it produced.
import PluginABI

func startWorker(_ descriptor: ph_plugin_descriptor, name: String) -> UnsafeMutableRawPointer? {
    name.withCString { name in
        var params = ph_worker_params(worker_name: name, host_data: nil, get_extension: { _, _ in nil })
        return descriptor.worker_init?(&params)
    }
}

/// What one `perform` call produced.
final class PerformRecord {
    var status: Int32 = -1
    var response: [UInt8]?
    var feedback: [[UInt8]] = []
    var failure: String?
    /// The message of `fail_task` ("ph.task-failure/1"), when the host offered it.
    var taskFailure: String?

    static func from(_ context: UnsafePointer<ph_perform_context>?) -> PerformRecord {
        Unmanaged<PerformRecord>.fromOpaque(context!.pointee.host_data!).takeUnretainedValue()
    }
}

/// The "ph.task-failure/1" table of a host that offers it: records the message.
nonisolated(unsafe) private let taskFailureTable: UnsafeMutablePointer<ph_worker_task_failure> = {
    let table = UnsafeMutablePointer<ph_worker_task_failure>.allocate(capacity: 1)
    table.initialize(to: ph_worker_task_failure(fail_task: { context, message in
        PerformRecord.from(context).taskFailure = string(message)
    }))
    return table
}()

/// Calls `perform` once; with `offeringTaskFailure`, the context offers "ph.task-failure/1"
/// (as plugin-worker does), else no extension (as a host older than ABI 2.1).
func perform(_ descriptor: ph_plugin_descriptor, _ worker: UnsafeMutableRawPointer, _ request: [UInt8],
             offeringTaskFailure: Bool = false) -> PerformRecord {
    let record = PerformRecord()
    var context = ph_perform_context()
    context.host_data = Unmanaged.passUnretained(record).toOpaque()
    context.respond = { context, data, count in PerformRecord.from(context).response = copy(data, count) }
    context.feedback = { context, data, count in PerformRecord.from(context).feedback.append(copy(data, count)) }
    context.should_stop = { _ in 0 }
    context.fail = { context, message in PerformRecord.from(context).failure = string(message) }
    if offeringTaskFailure {
        context.get_extension = { _, id in
            guard let id, String(cString: id) == PH_EXT_TASK_FAILURE else { return nil }
            return UnsafeRawPointer(taskFailureTable)
        }
    } else {
        context.get_extension = { _, _ in nil }
    }
    record.status = withView(request) { request in descriptor.perform!(worker, request, &context) }
    return record
}
