// Conversions between Swift values and the ABI's C strings, byte views and worker statuses.
import PluginABI
import PluginKit

func string(_ pointer: UnsafePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
}

func bytes(_ string: String) -> [UInt8] {
    string.binaryEncoded()
}

func copy(_ data: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    guard let data, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: data, count: count))
}

func withView<R>(_ bytes: [UInt8]?, _ body: (ph_bytes) -> R) -> R {
    guard let bytes else { return body(ph_bytes(data: nil, len: 0)) }
    return bytes.withUnsafeBufferPointer { body(ph_bytes(data: $0.baseAddress, len: $0.count)) }
}

func withStatus<R>(_ competence: [UInt8]?, _ body: (UnsafePointer<ph_worker_status>) -> R) -> R {
    withView(competence) { view in
        var status = ph_worker_status(is_old: competence == nil ? 0 : 1, competence: view, worker_name: nil)
        return withUnsafePointer(to: &status) { body($0) }
    }
}
