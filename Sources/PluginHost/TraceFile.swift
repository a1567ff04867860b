/// A ``ChromeTrace`` written to a file as the events arrive (`--trace FILE`, `plugin-host trace`).
///
/// Each event's entries are written as it comes (buffered), so the trace of a run that was
/// killed still loads (the array form may lack its closing `]`). The entries are made and
/// written on a thread of their own (``record(_:)`` only queues the event), off the run's lock,
/// a batch of events at a time in one write (``EventFormatter``).
public final class TraceFile: Sendable {
    private let output: OutputFile
    private let formatter: EventFormatter

    /// Writes the trace to `output` (created by the caller, checked with ``OutputGuard``).
    public init(output: OutputFile) {
        self.output = output
        output.writeLine(ChromeTrace.opening)
        var trace = ChromeTrace()  // (Used by the formatter's thread only.)
        formatter = EventFormatter(output: output) { event, text in trace.append(event, to: &text) }
    }

    /// Adds the entries of `event` (from any thread; events in the order they are recorded).
    public func record(_ event: HostEvent) {
        formatter.record(event)
    }

    /// Closes the array and the file; the write error as one line, or nil (see ``OutputFile/finish()``).
    public func finish() -> String? {
        formatter.finish()
        output.writeLine(ChromeTrace.closing)
        return output.finish()
    }

    /// The event categories a trace uses (every category but plugin logs).
    public static let categories: HostEventCategories = [.taskProgress, .taskEnds, .taskFailures, .workers, .feedback, .taskQueuedLate]
}
