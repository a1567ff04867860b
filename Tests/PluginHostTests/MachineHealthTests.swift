// MachineHealth's rules on their own: back-off, one outage counted once, dropping.
@testable import PluginHost
import Testing

@Suite("Machine health")
struct MachineHealthTests {
    @Test("each failure in a row doubles the back-off; a success forgives the count")
    func backOffDoubles() {
        var health = MachineHealth()
        var seconds: [Double] = []
        for now in [UInt64(10), 20, 30] {
            if case .down(let wait) = health.recordFailure("x", at: now, workerSpawnedAt: now, hasLiveWorkers: false,
                                                          limit: 5, backOff: 0.5) {
                seconds.append(wait)
            }
        }
        #expect(seconds == [0.5, 1, 2])
        #expect(!health.acceptsWorkers(at: 31) && health.isBackingOff(at: 31))
        #expect(health.acceptsWorkers(at: 30 + 2_000_000_000))
        health.recordSuccess()
        #expect(health.recordFailure("x", at: 40, workerSpawnedAt: 40, hasLiveWorkers: false, limit: 5, backOff: 0.5)
                == .down(seconds: 0.5))
    }

    @Test("a worker spawned before the last recorded failure belongs to that outage: not counted again")
    func oneOutageCountsOnce() {
        var health = MachineHealth()
        #expect(health.recordFailure("a", at: 100, workerSpawnedAt: 50, hasLiveWorkers: false, limit: 2, backOff: 1)
                == .down(seconds: 1))
        #expect(health.recordFailure("b", at: 110, workerSpawnedAt: 60, hasLiveWorkers: false, limit: 2, backOff: 1) == .ignored)
        #expect(health.consecutiveFailures == 1)
    }

    @Test("the limit of failures in a row drops the host, unless it still has live workers")
    func dropping() {
        var health = MachineHealth()
        _ = health.recordFailure("a", at: 1, workerSpawnedAt: 1, hasLiveWorkers: false, limit: 2, backOff: 1)
        #expect(health.recordFailure("b", at: 2, workerSpawnedAt: 2, hasLiveWorkers: true, limit: 2, backOff: 1)
                == .down(seconds: 2))
        #expect(health.recordFailure("c", at: 3, workerSpawnedAt: 3, hasLiveWorkers: false, limit: 2, backOff: 1) == .dropped)
        #expect(health.dropped == "c")
        #expect(!health.acceptsWorkers(at: .max) && !health.isBackingOff(at: 0))
        #expect(health.recordFailure("d", at: 4, workerSpawnedAt: 4, hasLiveWorkers: false, limit: 2, backOff: 1) == .ignored)
    }
}
