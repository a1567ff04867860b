// What the ABI's sinks received from a plugin: pushed tasks, response and request decisions.
import PluginABI

struct Pushed: Equatable {
    var bytes: [UInt8]
    var priority: Int32
    var timeout: UInt32
}

/// What a response sink received.
final class ResponseRecord {
    var stay: [UInt8]?
    var followUps: [Pushed] = []
    var resolved: (outcome: ph_outcome, message: String)?

    static func from(_ sink: UnsafePointer<ph_response_sink>?) -> ResponseRecord {
        Unmanaged<ResponseRecord>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue()
    }

    func withSink<R>(_ body: (UnsafePointer<ph_response_sink>) -> R) -> R {
        var sink = ph_response_sink()
        sink.host_data = Unmanaged.passUnretained(self).toOpaque()
        sink.stay = { sink, data, count in ResponseRecord.from(sink).stay = copy(data, count) }
        sink.push_task = { sink, data, count, priority in
            ResponseRecord.from(sink).followUps.append(Pushed(bytes: copy(data, count), priority: priority, timeout: 0))
        }
        sink.resolve = { sink, outcome, message in
            ResponseRecord.from(sink).resolved = (outcome, string(message) ?? "<NULL>")
        }
        return withUnsafePointer(to: &sink) { body($0) }
    }
}

/// What a request sink received.
final class RequestRecord {
    var result = PH_REQUEST_READY
    var request: [UInt8]?
    var marshalError: String?

    static func from(_ sink: UnsafePointer<ph_request_sink>?) -> RequestRecord {
        Unmanaged<RequestRecord>.fromOpaque(sink!.pointee.host_data!).takeUnretainedValue()
    }
}
