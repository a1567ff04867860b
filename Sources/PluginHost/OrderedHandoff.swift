/// Hands items to a thread of its own, which passes them to a handler in the order they were
/// sent: what an observer of the run does with an event (format it, write it) then happens off
/// the scheduler's lock, which the caller holds only for an append.
///
/// ``send(_:)`` may be called from any thread; ``finish()`` once, after the last send.
final class OrderedHandoff<Item: Sendable>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var items: [Item] = []
    private var consumerWaiting = false
    private var finishing = false
    private var finished = false

    /// Starts the thread that calls `handler` with each item, in order.
    init(_ handler: @escaping @Sendable (Item) -> Void) {
        startThread { [self] in self.deliver(to: handler) }
    }

    /// Queues `item` for the handler.
    func send(_ item: Item) {
        lock.withLock {
            items.append(item)
            if consumerWaiting { lock.broadcast() }
        }
    }

    /// Returns once the handler has taken every item sent; the thread then ends.
    func finish() {
        lock.withLock {
            finishing = true
            lock.broadcast()
            while !finished { lock.wait() }
        }
    }

    private func deliver(to handler: (Item) -> Void) {
        var batch: [Item] = []
        while true {
            lock.lock()
            while items.isEmpty && !finishing {
                consumerWaiting = true
                lock.wait()
                consumerWaiting = false
            }
            swap(&batch, &items)
            lock.unlock()
            if batch.isEmpty { break }  // Finishing, and nothing left.
            for item in batch { handler(item) }
            batch.removeAll(keepingCapacity: true)
        }
        lock.withLock {
            finished = true
            lock.broadcast()
        }
    }
}
