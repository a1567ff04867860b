// TestRun over the in-memory transport: the same assertions as end-to-end runs, no processes.
@testable import PluginHost
import TestSupport

extension TestRun {
    /// A run with no kind yet whose workers are in-memory (see ``InMemoryTransport``).
    static func inMemory(_ configuration: HostConfiguration = .test(),
                         transport: InMemoryTransport = InMemoryTransport()) -> TestRun {
        TestRun(run: PluginRun(configuration: configuration, transport: transport))
    }

    /// A run of one chaos kind with `arguments` whose workers are in-memory.
    static func inMemory(chaos arguments: [String], policy: WorkerPolicy? = nil,
                         _ configuration: HostConfiguration = .test(),
                         transport: InMemoryTransport = InMemoryTransport()) throws -> TestRun {
        let test = inMemory(configuration, transport: transport)
        try test.addChaos(arguments, policy: policy)
        return test
    }
}
