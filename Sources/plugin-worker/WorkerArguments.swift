/// The generic worker's command line: `plugin-worker --plugin PATH [--name NAME] [--parent-pid PID]`.
///
/// Parsed by hand (no swift-argument-parser, no Foundation) to keep the worker's start-up short:
/// a one-shot task kind starts one worker per job.
struct WorkerArguments {
    var pluginPath: String
    var workerName: String
    var parentPID: Int32?

    static let usage = "usage: plugin-worker --plugin PATH [--name NAME] [--parent-pid PID]"

    /// Parses `arguments` (without the program name); returns a one-line error on bad input.
    static func parse(_ arguments: [String]) -> Result<WorkerArguments, WorkerStartError> {
        var plugin: String?
        var name = "worker"
        var parent: Int32?
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            guard index + 1 < arguments.count else { return .failure(.usage("\(flag) needs a value")) }
            let value = arguments[index + 1]
            switch flag {
            case "--plugin": plugin = value
            case "--name": name = value
            case "--parent-pid":
                guard let pid = Int32(value) else { return .failure(.usage("--parent-pid takes a process id")) }
                parent = pid
            default: return .failure(.usage("unknown option \(flag)"))
            }
            index += 2
        }
        guard let plugin else { return .failure(.usage("--plugin is required")) }
        return .success(WorkerArguments(pluginPath: plugin, workerName: name, parentPID: parent))
    }
}

/// Why the worker could not start.
struct WorkerStartError: Error {
    var message: String
    static func usage(_ message: String) -> WorkerStartError {
        WorkerStartError(message: "plugin-worker: \(message)\n\(WorkerArguments.usage)")
    }
}
