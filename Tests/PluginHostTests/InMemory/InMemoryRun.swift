// A run under test whose workers are in-memory: the real scheduler and chaos master side.
@testable import PluginHost
import TestSupport
import Testing

/// A ``TestRun`` over an ``InMemoryTransport``.
struct InMemoryRun {
    let transport: InMemoryTransport
    let test: TestRun

    init(chaos arguments: [String], policy: WorkerPolicy? = nil, _ configuration: HostConfiguration = .test(),
         transport: InMemoryTransport = InMemoryTransport()) throws {
        self.init(configuration, transport: transport)
        try test.addChaos(arguments, policy: policy)
    }

    /// A run with no kind yet (add them with `test.addChaos`).
    init(_ configuration: HostConfiguration = .test(), transport: InMemoryTransport = InMemoryTransport()) {
        self.transport = transport
        // In-memory workers are this machine's: the agent pass's launcher (PLUGIN_HOST_TEST_AGENT=1)
        // would make them a launched host's, with that host's rules.
        var configuration = configuration
        if configuration.launcher == HostConfiguration.testAgentLauncher(configuration.workerExecutable) {
            configuration.launcher = nil
        }
        test = TestRun(run: PluginRun(configuration: configuration, transport: transport))
    }

    var run: PluginRun { test.run }
    var log: EventLog { test.log }
    var workers: [InMemoryWorker] { transport.workers }

    /// Starts the run, waits for its end, checks the invariants, and that the transport saw one
    /// start, one finish and every worker ended and released.
    func startAndFinish(sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunReport {
        test.start()
        return try await finish(sourceLocation: sourceLocation)
    }

    /// Waits for the end (see ``startAndFinish(sourceLocation:)``).
    func finish(sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunReport {
        let report = try await test.finish(sourceLocation: sourceLocation)
        #expect(transport.runStarts == 1 && transport.runFinishes == 1, sourceLocation: sourceLocation)
        for worker in workers {
            #expect(worker.ended != nil && worker.isReleased, "\(worker.name) was not reaped and released",
                    sourceLocation: sourceLocation)
        }
        return report
    }
}
