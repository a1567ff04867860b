// ReaperThreads: released workers are reaped on long-lived threads. A reap never waits behind
// another (one can take a second while a worker's stderr drains), a thread that is free is reused,
// and stop() ends them all once their reaps are done.
@testable import PluginHost
import Synchronization
import Testing

@Suite("Reaper threads")
struct ReaperThreadsTests {
    /// Waits (polling, at most 10 s) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async throws -> Bool {
        try await ForkServerTests.eventually(condition)
    }

    @Test("a reap that blocks holds up no other: each gets a thread of its own")
    func blockedReapHoldsNothingUp() async throws {
        let pool = ReaperThreads()
        let gate = ConditionLock()
        let open = Mutex(false)
        let done = Mutex(0)
        pool.submit {
            gate.withLock { while !open.withLock({ $0 }) { gate.wait() } }
            done.withLock { $0 += 1 }
        }
        for _ in 0..<5 { pool.submit { done.withLock { $0 += 1 } } }
        #expect(try await eventually { done.withLock { $0 } == 5 }, "the five quick reaps ran while the first was blocked")
        gate.withLock {
            open.withLock { $0 = true }
            gate.broadcast()
        }
        #expect(try await eventually { done.withLock { $0 } == 6 })
        pool.stop()
        #expect(try await eventually { pool.liveThreads == 0 }, "stop ends every thread")
    }

    @Test("reaps one after another reuse one thread; stop ends it")
    func idleThreadIsReused() async throws {
        let pool = ReaperThreads()
        let done = Mutex(0)
        for round in 1...20 {
            pool.submit { done.withLock { $0 += 1 } }
            #expect(try await eventually { done.withLock { $0 } == round && pool.idleThreads == 1 })
        }
        #expect(pool.threadsStarted == 1, "one thread served all 20 reaps")
        pool.stop()
        #expect(try await eventually { pool.liveThreads == 0 })
    }

    @Test("stop lets queued reaps finish first")
    func stopFinishesQueuedReaps() async throws {
        let pool = ReaperThreads()
        let done = Mutex(0)
        for _ in 0..<50 { pool.submit { done.withLock { $0 += 1 } } }
        pool.stop()
        #expect(try await eventually { pool.liveThreads == 0 })
        #expect(done.withLock { $0 } == 50, "every reap ran")
    }
}
