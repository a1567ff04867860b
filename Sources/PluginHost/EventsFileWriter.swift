/// An `--events` file written as the run goes: one ``HostEvent/jsonLine`` per event, in order.
///
/// ``record(_:)`` only queues the event; the lines are made and written on a thread of their own
/// (``OrderedHandoff``), off the run's lock, a batch of events at a time in one write.
public final class EventsFileWriter: @unchecked Sendable {
    private let output: OutputFile
    /// Used by the handoff's thread only.
    private var text = JSONText(capacity: 1 << 16)
    private var handoff: OrderedHandoff<HostEvent>!

    /// Writes the events to `output` (created by the caller, checked with ``OutputGuard``).
    public init(output: OutputFile) {
        self.output = output
        handoff = OrderedHandoff { [unowned self] events in self.write(events) }
    }

    /// Adds the line of `event` (from any thread; lines in the order events are recorded).
    public func record(_ event: HostEvent) {
        handoff.send(event)
    }

    private func write(_ events: [HostEvent]) {
        for event in events {
            event.appendJSON(to: &text)
            text.append(byte: 10)
            if text.bytes.count >= 1 << 16 { flush() }
        }
        flush()
    }

    private func flush() {
        output.write(text.bytes)
        text.removeAll()
    }

    /// Writes what is queued and closes the file; the write error as one line, or nil (see
    /// ``OutputFile/finish()``).
    public func finish() -> String? {
        handoff.finish()
        return output.finish()
    }
}
