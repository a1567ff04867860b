import PluginProtocol

/// Frames decided under the scheduler lock, written after it is released.
///
/// Each frame goes at once into its worker's ordered queue (``WorkerState/enqueue(type:id:payload:)``);
/// the outbox only remembers which workers to flush. Whichever thread flushes first writes every
/// frame decided so far for that worker, in decision order.
///
/// A value type passed `inout` through one scheduling decision: the common case (one worker to
/// flush, no warnings) allocates nothing.
struct Outbox {
    /// The first worker with frames queued; further ones, in order, in `others`.
    private var first: WorkerState?
    private var others: [WorkerState] = []
    private var lines: [String] = []
    private var lineHandler: (@Sendable (String) -> Void)?

    /// Lines for the warning handler, written on delivery.
    mutating func warnings(_ lines: [String], to handler: @escaping @Sendable (String) -> Void) {
        self.lines += lines
        lineHandler = handler
    }

    /// Queues a frame for `worker` (scheduler lock held).
    mutating func append(_ worker: WorkerState, type: FrameType, id: UInt64, payload: [UInt8]) {
        worker.enqueue(type: type, id: id, payload: payload)
        remember(worker)
    }

    private mutating func remember(_ worker: WorkerState) {
        guard let first else {
            first = worker
            return
        }
        if first !== worker && !others.contains(where: { $0 === worker }) { others.append(worker) }
    }

    /// Writes the queued frames (outside the lock).
    func deliver() {
        first?.flush()
        for worker in others { worker.flush() }
        if let lineHandler { for line in lines { lineHandler(line) } }
    }
}
