#if canImport(Glibc)
import Glibc
#endif

/// How a worker ended.
enum WorkerTermination: Equatable, Sendable, CustomStringConvertible {
    /// It exited by itself with this status.
    case exited(Int32)
    /// A signal ended it.
    case signalled(Int32)
    /// Its end could not be observed (the wait failed).
    case unknown
    /// The connection to the agent that ran it broke (the agent, its host or the link died):
    /// the worker died with its agent. The reason names the host and cause.
    case connectionLost(String)

    var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signalled(let signal): return "was killed by signal \(signal) (\(signalName(signal)))"
        case .unknown: return "ended in an unknown way"
        case .connectionLost(let reason): return "was lost: \(reason)"
        }
    }
}

/// The conventional name of a signal number (`SIGTERM`), or `signal N` for one without a name here.
public func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: return "SIGHUP"
    case SIGINT: return "SIGINT"
    case SIGQUIT: return "SIGQUIT"
    case SIGILL: return "SIGILL"
    case SIGTRAP: return "SIGTRAP"
    case SIGABRT: return "SIGABRT"
    case SIGBUS: return "SIGBUS"
    case SIGFPE: return "SIGFPE"
    case SIGKILL: return "SIGKILL"
    case SIGSEGV: return "SIGSEGV"
    case SIGPIPE: return "SIGPIPE"
    case SIGALRM: return "SIGALRM"
    case SIGTERM: return "SIGTERM"
    case SIGUSR1: return "SIGUSR1"
    case SIGUSR2: return "SIGUSR2"
    case SIGXCPU: return "SIGXCPU"
    default: return "signal \(signal)"
    }
}

extension WorkerTermination {
    /// How a fork server or an agent reported a worker's end: `x STATUS` (exited), `s SIGNAL`
    /// (killed) or `u 0` (unknown).
    init(report how: String, value: Int32) {
        switch how {
        case "x": self = .exited(value)
        case "s": self = .signalled(value)
        default: self = .unknown
        }
    }
}

extension WorkerTermination {
    /// True when the worker was lost with its agent's connection.
    var isConnectionLost: Bool {
        if case .connectionLost = self { return true }
        return false
    }
}
