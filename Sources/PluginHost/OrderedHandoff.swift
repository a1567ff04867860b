/// Hands items to a thread of its own, which passes them to a handler in batches, in the order
/// they were sent: what an observer of the run does with an event (format it, write it) then
/// happens off the scheduler's lock, which the caller holds only for an append.
///
/// A send does not wake the thread for each item (on a busy run that was a thread switch per
/// event, on cores the workers need): an idle thread wakes for the first item, then gathers
/// for up to ``gatheringNanoseconds`` (or until ``wakeCount`` items wait) before it takes the
/// lot. So items reach the handler at most that late, and a quiet run wakes nobody.
///
/// ``send(_:)`` may be called from any thread; ``finish()`` once, after the last send.
final class OrderedHandoff<Item: Sendable>: @unchecked Sendable {
    /// What the delivering thread is doing, for the senders.
    private enum Consumer {
        /// Handling a batch, or about to take one: no need to wake it.
        case busy
        /// Waiting for an item: the next send wakes it.
        case idle
        /// Letting items gather: a send wakes it only when ``wakeCount`` items wait.
        case gathering
    }

    /// The most a batch waits for more items once it has one.
    static var gatheringNanoseconds: UInt64 { 20_000_000 }
    /// Items that wake a gathering thread at once.
    static var wakeCount: Int { 4096 }

    private let lock = ConditionLock()
    private var items: [Item] = []
    private var consumer = Consumer.busy
    private var finishing = false
    private var finished = false

    /// Starts the thread that calls `handler` with the items sent, in order, a batch at a time.
    init(_ handler: @escaping @Sendable ([Item]) -> Void) {
        startThread { [self] in self.deliver(to: handler) }
    }

    /// Queues `item` for the handler.
    func send(_ item: Item) {
        lock.lock()
        items.append(item)
        if consumer == .idle || (consumer == .gathering && items.count >= Self.wakeCount) {
            consumer = .busy
            lock.broadcast()
        }
        lock.unlock()
    }

    /// Returns once the handler has taken every item sent; the thread then ends.
    func finish() {
        lock.withLock {
            finishing = true
            lock.broadcast()
            while !finished { lock.wait() }
        }
    }

    private func deliver(to handler: ([Item]) -> Void) {
        var batch: [Item] = []
        while true {
            lock.lock()
            while items.isEmpty && !finishing {
                consumer = .idle
                lock.wait()
            }
            if !finishing && items.count < Self.wakeCount {
                let deadline = monotonicNanoseconds() &+ Self.gatheringNanoseconds
                consumer = .gathering
                while consumer == .gathering && !finishing && monotonicNanoseconds() < deadline {
                    lock.wait(untilNanoseconds: deadline)
                }
            }
            consumer = .busy
            swap(&batch, &items)
            lock.unlock()
            if batch.isEmpty { break }  // Finishing, and nothing left.
            handler(batch)
            batch.removeAll(keepingCapacity: true)
        }
        lock.withLock {
            finished = true
            lock.broadcast()
        }
    }
}
