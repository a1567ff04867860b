// The configuration engine tests start from.
import PluginHost

#if canImport(Glibc)
import Glibc
#endif

extension HostConfiguration {
    /// A test configuration: results collected, a short kill grace so cancellations are quick.
    /// `forkServer` and `agent` say how this machine's workers start (see ``testsUseForkServer``
    /// and ``testsUseAgent``); a test about one transport passes false with a one-line reason. A
    /// test that brings its own `workerExecutable` (a script standing for a broken, gated or
    /// foreign worker) is about how that executable starts: it never goes through an agent.
    public static func test(jobs: Int = 2, timeout: Double? = nil, retries: Int = 1, maxJobsPerWorker: Int? = nil,
                     maxWorkerRSSBytes: Int? = nil, killGracePeriod: Double = 0.2,
                     workerExecutable: String? = nil,
                            forkServer: Bool = HostConfiguration.testsUseForkServer,
                            agent: Bool = HostConfiguration.testsUseAgent) -> HostConfiguration {
        var configuration = HostConfiguration(jobs: jobs, timeout: timeout, retries: retries,
                                              maxJobsPerWorker: maxJobsPerWorker, maxWorkerRSSBytes: maxWorkerRSSBytes,
                                              killGracePeriod: killGracePeriod, collectResults: true)
        if let workerExecutable { configuration.workerExecutable = workerExecutable }
        configuration.usesForkServer = forkServer
        if agent && workerExecutable == nil { configuration.launcher = testAgentLauncher(configuration.workerExecutable) }
        return configuration
    }

    /// False when `PLUGIN_HOST_TEST_EXEC_WORKERS=1`: local workers are forked by fork servers by
    /// default, and `make test` runs the end-to-end suites a second time with exec'd workers, so
    /// every engine rule is checked both ways.
    public static var testsUseForkServer: Bool {
        getenv("PLUGIN_HOST_TEST_EXEC_WORKERS").map { String(cString: $0) != "1" } ?? true
    }

    /// True when `PLUGIN_HOST_TEST_AGENT=1`: `make test` runs the end-to-end suites a third time
    /// with every worker started by a local worker agent (`plugin-worker --agent`, launched by
    /// `env`), so every engine rule is also checked through the agent's one multiplexed
    /// connection, its fork server and its relay.
    public static var testsUseAgent: Bool {
        getenv("PLUGIN_HOST_TEST_AGENT").map { String(cString: $0) == "1" } ?? false
    }

    /// A launcher that starts this machine's worker agent as `env WORKER --agent …`: one agent for
    /// the run, reached like a remote host's, but here.
    public static func testAgentLauncher(_ workerExecutable: String) -> WorkerLauncher {
        // (Quoted for the template's own word splitting: the checkout may live under any path.)
        try! WorkerLauncher(template: "env " + ShellQuoting.quote(workerExecutable))
    }
}
