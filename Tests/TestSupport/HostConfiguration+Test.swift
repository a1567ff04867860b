// The configuration engine tests start from.
import PluginHost

#if canImport(Glibc)
import Glibc
#endif

extension HostConfiguration {
    /// A test configuration: results collected, a short kill grace so cancellations are quick.
    public static func test(jobs: Int = 2, timeout: Double? = nil, retries: Int = 1, maxJobsPerWorker: Int? = nil,
                     maxWorkerRSSBytes: Int? = nil, killGracePeriod: Double = 0.2,
                     workerExecutable: String? = nil,
                            forkServer: Bool = HostConfiguration.testsUseForkServer) -> HostConfiguration {
        var configuration = HostConfiguration(jobs: jobs, timeout: timeout, retries: retries,
                                              maxJobsPerWorker: maxJobsPerWorker, maxWorkerRSSBytes: maxWorkerRSSBytes,
                                              killGracePeriod: killGracePeriod, collectResults: true)
        if let workerExecutable { configuration.workerExecutable = workerExecutable }
        configuration.usesForkServer = forkServer
        return configuration
    }

    /// True when `PLUGIN_HOST_TEST_FORK_SERVER=1`: `make test` runs the end-to-end suites a second
    /// time that way, so every engine rule is also checked with workers forked by fork servers.
    public static var testsUseForkServer: Bool {
        getenv("PLUGIN_HOST_TEST_FORK_SERVER").map { String(cString: $0) == "1" } ?? false
    }
}
