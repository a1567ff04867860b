/// A ``ChromeTrace`` written to a file as the events arrive (`--trace FILE`, `plugin-host trace`).
///
/// Each event's entries are written at once (buffered), so the trace of a run that was killed
/// still loads (the array form may lack its closing `]`). Calls must not overlap: the run's
/// observers are called one at a time, in order.
public final class TraceFile: @unchecked Sendable {
    private let output: OutputFile
    private var trace = ChromeTrace()
    private var first = true

    /// Writes the trace to `output` (created by the caller, checked with ``OutputGuard``).
    public init(output: OutputFile) {
        self.output = output
        output.writeLine(ChromeTrace.opening)
    }

    /// Adds the entries of `event`.
    public func record(_ event: HostEvent) {
        trace.entries(for: event) { entry in
            output.writeLine(first ? entry : "," + entry)
            first = false
        }
    }

    /// Closes the array and the file; the write error as one line, or nil (see ``OutputFile/finish()``).
    public func finish() -> String? {
        output.writeLine(ChromeTrace.closing)
        return output.finish()
    }

    /// The event categories a trace uses (every category but plugin logs).
    public static let categories: HostEventCategories = [.taskProgress, .taskEnds, .taskFailures, .workers, .feedback]
}
