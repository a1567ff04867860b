/// The generic worker's command line: `plugin-worker --plugin PATH [--name NAME] [--parent-pid PID]`.
///
/// Parsed by hand (no swift-argument-parser, no Foundation) to keep the worker's start-up short:
/// a one-shot task kind starts one worker per job.
struct WorkerArguments {
    var pluginPath: String
    var workerName: String
    var parentPID: Int32?
    /// Seconds between heartbeats both ways; nil for none (a local worker).
    var heartbeat: Double?
    /// Intervals of silence from the master after which the worker exits.
    var heartbeatMisses = 3

    static let usage = "usage: plugin-worker --plugin PATH [--name NAME] [--parent-pid PID] [--heartbeat SECONDS [--heartbeat-misses N]]"

    /// Parses `arguments` (without the program name); returns a one-line error on bad input.
    static func parse(_ arguments: [String]) -> Result<WorkerArguments, WorkerStartError> {
        var plugin: String?
        var name = "worker"
        var parent: Int32?
        var heartbeat: Double?
        var misses = 3
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
            case "--heartbeat":
                guard let seconds = Double(value), seconds > 0, seconds < 86_400 else {
                    return .failure(.usage("--heartbeat takes a positive number of seconds"))
                }
                heartbeat = seconds
            case "--heartbeat-misses":
                guard let count = Int(value), count >= 1 else { return .failure(.usage("--heartbeat-misses takes a count of 1 or more")) }
                misses = count
            default: return .failure(.usage("unknown option \(flag)"))
            }
            index += 2
        }
        guard let plugin else { return .failure(.usage("--plugin is required")) }
        return .success(WorkerArguments(pluginPath: plugin, workerName: name, parentPID: parent,
                                        heartbeat: heartbeat, heartbeatMisses: misses))
    }
}

/// Why the worker could not start.
struct WorkerStartError: Error {
    var message: String
    static func usage(_ message: String) -> WorkerStartError {
        WorkerStartError(message: "plugin-worker: \(message)\n\(WorkerArguments.usage)")
    }
}
