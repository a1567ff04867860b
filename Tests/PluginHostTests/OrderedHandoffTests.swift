// OrderedHandoff: what an observer of the run does with an event happens on a thread of its own,
// in order, a batch at a time; nothing sent is lost, a lone item is not held back until the end.
import Foundation
@testable import PluginHost
import Testing

@Suite("Ordered handoff")
struct OrderedHandoffTests {
    /// What the handler saw: each batch.
    private final class Batches: @unchecked Sendable {
        private let lock = NSLock()
        private var batches: [[Int]] = []
        func add(_ batch: [Int]) { lock.withLock { batches.append(batch) } }
        var all: [[Int]] { lock.withLock { batches } }
    }

    @Test("what piles up while the handler is busy comes as one batch, in order; finish delivers the rest")
    func batchesInOrder() {
        let batches = Batches()
        let firstTaken = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let handoff = OrderedHandoff<Int> { batch in
            if batch.first == 0 {
                firstTaken.signal()
                release.wait()
            }
            batches.add(batch)
        }
        handoff.send(0)
        firstTaken.wait()  // The handler holds the first batch: the next items pile up.
        for item in 1..<10_000 { handoff.send(item) }
        release.signal()
        handoff.finish()
        let seen = batches.all
        #expect(seen.first == [0])
        #expect(seen.count == 2, "the items sent while the handler was busy came as one batch: \(seen.map(\.count))")
        #expect(seen.flatMap { $0 } == Array(0..<10_000))
    }

    @Test("a lone item reaches the handler without finish, and items from several threads all arrive")
    func loneItemAndManySenders() async {
        let batches = Batches()
        let delivered = DispatchSemaphore(value: 0)
        let handoff = OrderedHandoff<Int> { batch in
            batches.add(batch)
            delivered.signal()
        }
        handoff.send(-1)
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                delivered.wait()
                continuation.resume()
            }
        }
        #expect(batches.all == [[-1]])
        DispatchQueue.concurrentPerform(iterations: 4) { sender in
            for item in 0..<5_000 { handoff.send(sender * 100_000 + item) }
        }
        handoff.finish()
        let items = batches.all.flatMap { $0 }.dropFirst()
        #expect(items.count == 20_000)
        for sender in 0..<4 {
            let own = items.filter { $0 / 100_000 == sender }
            #expect(own == (0..<5_000).map { sender * 100_000 + $0 }, "sender \(sender)'s items in the order sent")
        }
    }
}
