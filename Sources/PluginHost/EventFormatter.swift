/// Events turned into text and written to an ``OutputFile`` on a thread of their own
/// (``OrderedHandoff``), off the run's lock, a batch of events per write: the engine of
/// `--events` (``EventsFileWriter``) and `--trace` (``TraceFile``).
final class EventFormatter: Sendable {
    private let handoff: OrderedHandoff<HostEvent>

    /// The most text gathered before a write.
    static let blockSize = 1 << 16

    /// Writes what `format` appends for each event to `output`. `format` runs on the formatter's
    /// thread only, one event at a time, in order.
    init(output: OutputFile, format: @escaping (HostEvent, inout JSONText) -> Void) {
        let writer = Writer(output: output, format: format)
        handoff = OrderedHandoff { events in writer.write(events) }
    }

    /// A formatter dropped without ``finish()`` still writes what was recorded, then its thread ends.
    deinit {
        handoff.finish()
    }

    /// Queues `event` (from any thread; events are formatted in the order they are recorded).
    func record(_ event: HostEvent) {
        handoff.send(event)
    }

    /// Returns once every event recorded is written to the output (which stays open); the
    /// thread then ends.
    func finish() {
        handoff.finish()
    }

    /// The text and the output, used by the handoff's thread only (held by its closure, so they
    /// outlive the formatter until the thread is done).
    private final class Writer: @unchecked Sendable {
        private let output: OutputFile
        private var text = JSONText(capacity: EventFormatter.blockSize)
        private let format: (HostEvent, inout JSONText) -> Void

        init(output: OutputFile, format: @escaping (HostEvent, inout JSONText) -> Void) {
            self.output = output
            self.format = format
        }

        func write(_ events: [HostEvent]) {
            for event in events {
                format(event, &text)
                if text.bytes.count >= EventFormatter.blockSize { flush() }
            }
            flush()
        }

        private func flush() {
            output.write(text.bytes)
            text.removeAll()
        }
    }
}
