import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `HostConfiguration.pinsSlotsToCores`: with two slots on a machine of two cores or more, each
/// slot's worker runs on one core of its own; switched off, workers keep the master's cores.
@Suite struct CorePinningTests {
    @Test(arguments: [true, false]) func workersRunOnTheirSlotsCore(pinning: Bool) async throws {
        let masterCores = try #require(ProcessProbe.allowedCores(of: getpid()))
        // (Not through an agent: slots are pinned to this machine's cores, a launched host's are its own.)
        var configuration = HostConfiguration.test(jobs: 2, agent: false)
        configuration.pinsSlotsToCores = pinning
        let test = try TestRun(chaos: ["hang", "hang"], configuration)  // (alive until cancelled)
        let log = test.log
        // Read on a thread of its own while both tasks run: a whole suite can keep the Swift
        // concurrency pool busy for long (a 20 s sleep had ended).
        let reading = Reaction { () -> [String] in
            guard log.blockingWaitForStart(of: 1, attempt: 1) != nil, log.blockingWaitForStart(of: 2, attempt: 1) != nil
            else { return [] }
            return log.workersStarted.compactMap { ProcessProbe.allowedCores(of: $0.pid) }
        }
        test.start()
        let cores = await reading.value
        #expect(cores.count == 2, "workers: \(test.log.workersStarted)")
        if pinning && ProcessProbe.coreCount(masterCores) >= 2 {
            for list in cores { #expect(Int(list) != nil, "a single core, not \(list)") }
            #expect(Set(cores).count == cores.count, "one core per slot: \(cores)")
        } else {
            #expect(cores.allSatisfy { $0 == masterCores }, "\(cores) against the master's \(masterCores)")
        }
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 2)
    }
}

extension ProcessProbe {
    /// The `Cpus_allowed_list` of `pid` ("0-1", "3"), or nil if it is gone.
    static func allowedCores(of pid: Int32) -> String? {
        guard let bytes = readFile("/proc/\(pid)/status") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return String(line.dropFirst("Cpus_allowed_list:".count).drop { $0 == " " || $0 == "\t" })
    }

    /// How many cores a `Cpus_allowed_list` names ("0-3,6" is 5).
    static func coreCount(_ list: String) -> Int {
        list.split(separator: ",").reduce(0) { total, part in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            return total + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
        }
    }
}
