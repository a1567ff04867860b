/// Why a run stopped starting tasks before its input ran out. Every task not run then ends
/// `cancelled` with the raw value as its reason.
public enum RunStop: String, Sendable, Equatable {
    /// ``PluginRun/drain(timeout:)`` (SIGTERM or `--drain-signal` on the command line).
    case drained
    /// The run's ``HaltPolicy`` was met (`--halt`).
    case halted
}
