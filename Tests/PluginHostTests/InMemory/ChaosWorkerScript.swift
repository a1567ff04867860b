// The chaos plugin's worker side, as a script for in-memory workers.
@testable import PluginHost

#if canImport(Glibc)
import Glibc
#endif

/// Answers requests as the chaos plugin's `perform` does (Tests/Fixtures/ChaosPlugin), so the
/// real chaos master side judges the answers: `STATUS|ACTION[:ARG]` in, `pid=PID STATUS RESULT`
/// out. Faults become steps: `segv` a death by SIGSEGV, `hang` silence, `garbage` bytes that are
/// no frame, `badresp` an error frame, `taskfail` a task-failure frame.
enum ChaosWorkerScript {
    static func respond(_ worker: InMemoryWorker, _ id: UInt64, _ request: String) -> [InMemoryWorker.Step] {
        guard let bar = request.firstIndex(of: "|") else {
            return [.send(.error, "chaos: malformed request: \(request)")]
        }
        let status = String(request[..<bar])
        let action = request[request.index(after: bar)...]
        let name: Substring
        let argument: String?
        if let colon = action.firstIndex(of: ":") {
            name = action[..<colon]
            argument = String(action[action.index(after: colon)...])
        } else {
            name = action
            argument = nil
        }
        func reply(_ result: String) -> InMemoryWorker.Step { .send(.response, "pid=\(worker.pid) \(status) \(result)") }
        switch name {
        case "echo": return [reply(argument ?? "ok")]
        case "segv", "state-die", "death-local": return [.die(.signalled(SIGSEGV), stderr: [])]
        case "abort": return [.die(.signalled(SIGABRT), stderr: [])]
        case "exit": return [.die(.exited(Int32(argument ?? "") ?? 0), stderr: [])]
        case "noisy-death":
            return [.die(.signalled(SIGABRT), stderr: ["chaos: last words 1", "chaos: last words 2", "chaos: last words 3"])]
        case "hang", "wait": return [.hang]  // (wait: until the test answers, see InMemoryWorker.answer)
        case "grow": return [.grow(megabytes: Int64(argument ?? "") ?? 0), .hang]
        case "sleep": return [reply("slept \(argument ?? "0")")]
        case "garbage": return [.garbage]
        case "stdout": return [reply("printed")]
        case "leak": return [.grow(megabytes: Int64(argument ?? "") ?? 0), reply("leaked \(argument ?? "0")")]
        case "feedback":
            let count = Int(argument ?? "") ?? 0
            return (0..<count).map { .send(.feedback, "fb\($0 + 1)") } + [reply("sent \(count) by \(worker.name)")]
        case "followup", "followup-die": return [reply("failed-at \(argument ?? "")")]
        case "state":
            let k = argument?.split(separator: "@").first.map(String.init) ?? ""
            return [reply("state \(k)")]
        case "crash-once":
            return worker.transport?.setMark(argument ?? "") == true ? [.die(.signalled(SIGSEGV), stderr: [])] : [reply("survived")]
        case "badresp": return [.send(.error, "chaos: cannot decode request")]
        case "taskfail": return [.send(.taskFailure, argument ?? "chaos: task failed")]
        case "lastbroadcast": return [reply(worker.lastBroadcast ?? "none")]
        case "stay", "fail", "broadcast", "obsolete", "marshal", "marshal-local", "master-segv", "master-sleep", "log": return [reply("ok")]
        default: return [.send(.error, "chaos: unknown action: \(action)")]
        }
    }
}
