// `-j` costs threads only as workers are needed, and a `-j` beyond what the machine can hold is
// refused with one line (issue 12, defect 4: `-j 100000` made 32,432 threads up front and took
// the machine's process ids).
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Job limit")
struct JobLimitTests {
    /// Threads of this process now.
    private static func threadCount() -> Int {
        guard let directory = opendir("/proc/self/task") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }

    @Test("a huge -j with three tasks starts slot threads only for the workers it needs")
    func hugeBudgetFewTasks() async throws {
        let jobs = min(2000, HostConfiguration.maximumJobs)
        let test = try TestRun(chaos: ["echo:a", "echo:b", "echo:c"], .test(jobs: jobs))
        let before = Self.threadCount()
        test.start()
        let after = Self.threadCount()
        // (Other tests of this process start a few threads meanwhile; one per slot would be 2000.)
        #expect(after - before < jobs / 2, "threads before start: \(before), after: \(after)")
        let report = try await test.finish()
        #expect(report.counts.done == 3)
        #expect(report.slotThreadsStarted >= 1 && report.slotThreadsStarted <= 3,
                "slot threads started: \(report.slotThreadsStarted)")
    }

    @Test("a -j above what the machine can hold is refused with one line, exit 2, nothing run")
    func budgetBeyondTheMachine() async throws {
        let jobs = HostConfiguration.maximumJobs + 1
        let result = try await HostProcess.run(["run", "-j", String(jobs), "chaos", "echo:a"])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.errorLines.first?.hasPrefix("plugin-host: error: -j \(jobs) is more workers than this machine can hold: at most \(jobs - 1)") == true,
                "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("the library refuses the same budget when a kind is added")
    func libraryRefusesTooLargeBudget() throws {
        let run = PluginRun(configuration: .test(jobs: HostConfiguration.maximumJobs + 1))
        #expect(throws: HostError.self) { try run.addKind(Chaos.library, arguments: ["echo"]) }
    }
}
