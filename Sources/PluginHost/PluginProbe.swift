import PluginProtocol
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Loads a library in a short-lived `plugin-worker --probe` process and returns what it says
/// about itself, so a library that faults, crashes or calls `exit` while it loads (or hangs)
/// harms only that process.
enum PluginProbe {
    /// How long a probe may take before it is killed.
    static let timeLimit: Double = 10

    /// The library's ``PluginInfo``, or why it is not a usable plugin.
    static func run(path: String, executable: String) -> Result<PluginInfo, PluginLoadError> {
        let process: WorkerProcess
        do {
            process = try WorkerProcess.spawn(executable: executable,
                                              arguments: ["--probe", path, "--parent-pid", String(getpid())])
        } catch {
            return .failure(.probeFailed(path: path, reason: "cannot start \(executable) to probe it: \(error)"))
        }
        process.closeInput()
        let (answer, lastError, timedOut) = collect(process)
        if timedOut { process.send(signal: SIGKILL) }
        let termination = process.waitForExit()
        process.closeOutput()
        try? process.errors.close()
        if timedOut {
            return .failure(.probeFailed(path: path, reason: "loading it did not finish within \(Int(timeLimit)) s"))
        }
        if termination == .exited(0), let decoded = PluginProbeAnswer(decoding: answer) {
            switch decoded {
            case .plugin(let info): return .success(info)
            case .failure(let error): return .failure(error)
            }
        }
        let how: String
        switch termination {
        case .signalled(let signal): how = "loading it killed the process (\(signalName(signal)))"
        case .exited(let status): how = "loading it ended the process (exit status \(status))"
        case .unknown, .connectionLost: how = "the probe process ended in an unknown way"
        }
        return .failure(.probeFailed(path: path, reason: how + (lastError.isEmpty ? "" : "; it said: \(lastError)")))
    }

    /// Reads the answer (stdout) and the last stderr line until both end or the time limit passes.
    private static func collect(_ process: WorkerProcess) -> (answer: [UInt8], lastError: String, timedOut: Bool) {
        var answer: [UInt8] = []
        var errors: [UInt8] = []
        var open = [process.output.rawValue, process.errors.rawValue]
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let deadline = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9 + timeLimit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !open.isEmpty {
            var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            var left = 0.0
            // The time left is measured again for each try: an interrupted poll does not extend it.
            let ready = retryingOnInterrupt { () -> Int32 in
                clock_gettime(CLOCK_MONOTONIC, &clock)
                left = deadline - (Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9)
                return left <= 0 ? 0 : poll(&polled, nfds_t(polled.count), Int32(min(left * 1000 + 1, 60_000)))
            }
            if left <= 0 { return (answer, "", true) }
            guard ready >= 0 else { break }
            for entry in polled where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { (try? Descriptor(entry.fd).read(into: $0)) ?? -1 }
                if count <= 0 {
                    open.removeAll { $0 == entry.fd }
                } else if entry.fd == process.output.rawValue {
                    // An answer is a few hundred bytes; a plugin printing megabytes is not one.
                    if answer.count < 1 << 20 { answer += buffer[0..<count] }
                } else {
                    errors = Array((errors + buffer[0..<count]).suffix(4096))
                }
            }
        }
        let lines = String(decoding: errors, as: UTF8.self).split(whereSeparator: \.isNewline)
        return (answer, String(lines.last ?? "").prefix(200).description, false)
    }
}
