// --worker-memory for the workers of a worker agent (`plugin-worker --agent`): the agent hands
// the limit to the workers it forks or spawns (not to itself), and a worker whose allocation
// fails under it is lost out of memory through the agent as it is here, retried by --oom-retries,
// apart from a crash. Caused for real: the agent runs on this machine behind a fake ssh.
import PluginHost
import TestSupport
import Testing

@Suite("Worker agents: --worker-memory")
struct AgentWorkerMemoryTests {
    @Test("an allocation past --worker-memory in an agent's worker: out of memory, retried by --oom-retries, apart from a crash")
    func allocationPastTheLimitThroughTheAgent() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = AgentTests.fakeSSH(in: directory)
        var configuration = try AgentTests.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 1)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", retries: 0)
        configuration.workerMemoryBytes = 256 << 20
        configuration.oomRetries = 1
        let test = try TestRun(chaos: ["alloc:1024", "alloc:16", "segv"], policy: .oneShot, configuration)
        let report = try await test.startAndFinish()
        func result(_ action: String) -> TaskResult? {
            report.results.first { ($0.name ?? "").hasSuffix(" " + action) }
        }
        let allocation = try #require(result("alloc:1024"))
        #expect(allocation.outcome == .failed)
        #expect(allocation.attempts == 2, "one try and one --oom-retries retry, apart from --retries 0")
        let message = allocation.message ?? ""
        #expect(message.hasPrefix("worker ran out of memory 2 time(s); last: out of memory under --worker-memory 256 MiB: "),
                "message: \(message)")
        #expect(result("alloc:16")?.outcome == .done, "within the limit")
        #expect(result("segv")?.message?.hasPrefix("worker died 1 time(s): ") == true, "a crash stays a crash: \(String(describing: result("segv")))")
        let outOfMemory = test.log.workersEnded.filter { $0.reason.hasPrefix("out of memory under --worker-memory 256 MiB") }
        #expect(outOfMemory.count == 2, "\(test.log.workersEnded)")
        #expect(report.workersOutOfMemory == 2)
        #expect(AgentTests.launches(launches).map(\.host) == ["alpha"], "one agent for the run: the limit did not end it")
    }
}
