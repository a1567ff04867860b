/// An `--events` file written as the run goes: one ``HostEvent/jsonLine`` per event, in order.
///
/// ``record(_:)`` only queues the event; the lines are made and written on a thread of their own
/// (``EventFormatter``), off the run's lock, a batch of events at a time in one write.
public final class EventsFileWriter: Sendable {
    private let output: OutputFile
    private let formatter: EventFormatter

    /// Writes the events to `output` (created by the caller, checked with ``OutputGuard``).
    public init(output: OutputFile) {
        self.output = output
        formatter = EventFormatter(output: output) { event, text in
            event.appendJSON(to: &text)
            text.append(byte: 10)
        }
    }

    /// Adds the line of `event` (from any thread; lines in the order events are recorded).
    public func record(_ event: HostEvent) {
        formatter.record(event)
    }

    /// Writes what is queued and closes the file; the write error as one line, or nil (see
    /// ``OutputFile/finish()``).
    public func finish() -> String? {
        formatter.finish()
        return output.finish()
    }
}
