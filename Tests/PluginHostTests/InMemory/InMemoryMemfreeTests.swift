// --memfree over in-memory workers, the memory available driven by the test: no worker starts
// below the floor; under half of it the youngest running task is killed and queued again, not
// counted against its retries; never the only running task.
@testable import PluginHost
import Synchronization
import TestSupport
import Testing

/// The memory available as the test sets it, in MiB.
private final class MemoryReading: Sendable {
    private let mebibytes: Mutex<Int>
    private let readCount = Mutex(0)
    init(_ mebibytes: Int) { self.mebibytes = Mutex(mebibytes) }
    func set(_ value: Int) { mebibytes.withLock { $0 = value } }
    /// Read by the host: counted.
    var bytes: Int {
        readCount.withLock { $0 += 1 }
        return mebibytes.withLock { $0 } << 20
    }
    /// Waits until the host has read the value `count` times.
    func waitForReads(_ count: Int) async throws {
        while readCount.withLock({ $0 }) < count { try await Task.sleep(for: .milliseconds(1)) }
    }
}

@Suite("--memfree over in-memory workers")
struct InMemoryMemfreeTests {
    private func configuration(_ reading: MemoryReading, retries: Int = 1) -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: 2, retries: retries)
        configuration.memfreeBytes = 1000 << 20
        configuration.availableMemory = { reading.bytes }
        configuration.memfreeCheckInterval = 0.01
        return configuration
    }

    @Test("below the floor no worker starts; once memory is back, the tasks run")
    func noWorkerBelowTheFloor() async throws {
        let reading = MemoryReading(600)  // Below 1000, above half: nothing is killed, nothing starts.
        let test = try InMemoryRun(chaos: ["echo:a", "echo:b"], configuration(reading))
        test.test.start()
        // The first reading holds from the start; several readings later, still no worker.
        try await reading.waitForReads(4)
        #expect(test.transport.spawnCount == 0)
        reading.set(1500)
        let report = try await test.finish()
        #expect(report.counts.done == 2)
    }

    @Test("under half of the floor the youngest running task is killed and queued again, not counted; the last one runs on")
    func youngestTaskKilledAndRequeued() async throws {
        let reading = MemoryReading(1500)
        let test = try InMemoryRun(chaos: ["hang", "hang"], configuration(reading, retries: 0))
        test.test.start()
        await test.log.waitForStart(of: 1)
        await test.log.waitForStart(of: 2)
        let youngest = try #require(test.log.starts.last)
        reading.set(400)
        let retried = await test.log.waitFor("a task queued again") { if case .taskRetried = $0 { true } else { false } }
        guard case .taskRetried(let task, let reason)? = retried?.kind else { Issue.record("no retry"); return }
        #expect(task == youngest.task)
        #expect(reason == "killed for memory: 400 MiB available, under half of --memfree 1000 MiB; its task goes back to the queue")
        #expect(await test.log.waitForWorkerEnd(youngest.worker) == reason)
        // Memory back: the task runs again although --retries is 0 (the kill was no loss).
        reading.set(1500)
        await test.log.waitForStart(of: task, attempt: 2)
        #expect(test.log.retries.count == 1, "the other task, alone, was never killed: \(test.log.retries)")
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 2 && report.counts.failed == 0)
    }
}
