// A fake host: the master-side C services, recording what the plugin hands over.
import PluginABI

#if canImport(Glibc)
import Glibc
#endif

/// The master-side services of a host, recording every call.
final class FakeHost {
    var pushes: [Pushed] = []
    var broadcasts: [[UInt8]] = []
    var logs: [String] = []
    var error: String?
    private let table = UnsafeMutablePointer<ph_master_host>.allocate(capacity: 1)

    init() {
        table.initialize(to: ph_master_host())
        table.pointee.host_data = Unmanaged.passUnretained(self).toOpaque()
        table.pointee.push_task = { host, data, count, priority, timeout in
            FakeHost.from(host?.pointee.host_data).pushes.append(Pushed(bytes: copy(data, count), priority: priority, timeout: timeout))
        }
        table.pointee.broadcast = { host, data, count in
            FakeHost.from(host?.pointee.host_data).broadcasts.append(copy(data, count))
        }
        table.pointee.log = { host, level, message in
            FakeHost.from(host?.pointee.host_data).logs.append("\(level): \(string(message) ?? "")")
        }
        table.pointee.get_extension = { _, _ in nil }  // This host offers no extension.
    }

    deinit {
        table.deallocate()
    }

    static func from(_ data: UnsafeMutableRawPointer?) -> FakeHost {
        Unmanaged<FakeHost>.fromOpaque(data!).takeUnretainedValue()
    }

    func open(_ descriptor: ph_plugin_descriptor, _ argv: [String], policy: ph_policy) -> UnsafeMutableRawPointer? {
        var errors = ph_error_sink()
        errors.host_data = Unmanaged.passUnretained(self).toOpaque()
        errors.set_error = { sink, message in FakeHost.from(sink?.pointee.host_data).error = string(message) }
        let cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { argvBuffer in
            var params = ph_open_params(argc: Int32(argvBuffer.count), argv: argvBuffer.baseAddress, policy: policy, max_workers: 2)
            return descriptor.master_open?(table, &params, &errors)
        }
    }

    func request(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8], competence: [UInt8]?)
        -> RequestRecord
    {
        let record = RequestRecord()
        var sink = ph_request_sink()
        sink.host_data = Unmanaged.passUnretained(record).toOpaque()
        sink.set_request = { sink, data, count in RequestRecord.from(sink).request = copy(data, count) }
        sink.set_marshal_error = { sink, message in RequestRecord.from(sink).marshalError = string(message) }
        record.result = withStatus(competence) { status in
            withView(task) { task in descriptor.request_of_task!(master, status, task, &sink) }
        }
        return record
    }

    func useResponse(
        _ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8], competence: [UInt8]?,
        response: [UInt8]
    ) -> ResponseRecord {
        let record = ResponseRecord()
        record.withSink { sink in
            withStatus(competence) { status in
                withView(task) { task in
                    withView(response) { response in descriptor.use_response!(master, status, task, response, sink) }
                }
            }
        }
        return record
    }

    func lost(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8]?, reason: ph_loss_reason)
        -> ResponseRecord
    {
        let record = ResponseRecord()
        record.withSink { sink in
            withView(task) { task in descriptor.on_task_lost?(master, task, reason, "gone", 0, sink) }
        }
        return record
    }

    func marshalError(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8]) -> ResponseRecord {
        let record = ResponseRecord()
        record.withSink { sink in
            withView(task) { task in descriptor.on_marshal_error?(master, "frame was malformed", task, sink) }
        }
        return record
    }

    func match(_ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer, task: [UInt8], competence: [UInt8]?) -> Int32 {
        withStatus(competence) { status in
            withView(task) { task in descriptor.task_match.map { $0(master, status, task) } ?? 1 }
        }
    }

    func name(
        _ function: (@convention(c) (UnsafeMutableRawPointer?, ph_bytes, UnsafePointer<ph_name_sink>?) -> Void)?,
        _ master: UnsafeMutableRawPointer, _ value: [UInt8]
    ) -> String? {
        final class Box { var name: String? }
        let box = Box()
        var sink = ph_name_sink()
        sink.host_data = Unmanaged.passUnretained(box).toOpaque()
        sink.set_name = { sink, name in Unmanaged<Box>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue().name = string(name) }
        withView(value) { view in function?(master, view, &sink) }
        return box.name
    }

    @discardableResult
    func finish(
        _ descriptor: ph_plugin_descriptor, _ master: UnsafeMutableRawPointer,
        summary: ph_run_summary = ph_run_summary()
    ) -> (text: String, status: Int32) {
        final class Box {
            var text = ""
            var status: Int32 = 0
        }
        let box = Box()
        var sink = ph_report_sink()
        sink.host_data = Unmanaged.passUnretained(box).toOpaque()
        sink.write = { sink, text in Unmanaged<Box>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue().text += string(text) ?? "" }
        sink.set_exit_status = { sink, status in Unmanaged<Box>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue().status = status }
        var summary = summary
        descriptor.finish?(master, &summary, &sink)
        return (box.text, box.status)
    }
}
