import PluginHost

#if canImport(Glibc)
import Glibc
#endif

/// `--drain-signal`: a signal that drains the run as SIGTERM does (Slurm's
/// `--signal=B:USR1@120` warns a batch job this way before its time limit).
enum DrainSignal {
    /// The signals that may drain: those a scheduler or an operator sends to ask for an end.
    static let allowed: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGXCPU]

    /// The signal `text` names: `USR1`, `SIGUSR1` (any case) or its number; nil if it names none
    /// of ``allowed``.
    static func parse(_ text: String) -> Int32? {
        if let number = Int32(text) { return allowed.contains(number) ? number : nil }
        let upper = text.uppercased()
        let name = upper.hasPrefix("SIG") ? upper : "SIG" + upper
        return allowed.first { signalName($0) == name }
    }

    /// The names ``parse(_:)`` takes, for the usage message.
    static var allowedNames: String {
        allowed.map { String(signalName($0).dropFirst(3)) }.joined(separator: ", ")
    }
}
