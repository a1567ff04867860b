// The configuration engine tests start from.
import PluginHost

extension HostConfiguration {
    /// A test configuration: results collected, a short kill grace so cancellations are quick.
    public static func test(jobs: Int = 2, timeout: Double? = nil, retries: Int = 1, maxJobsPerWorker: Int? = nil,
                     maxWorkerRSSBytes: Int? = nil, killGracePeriod: Double = 0.2,
                     workerExecutable: String? = nil) -> HostConfiguration {
        var configuration = HostConfiguration(jobs: jobs, timeout: timeout, retries: retries,
                                              maxJobsPerWorker: maxJobsPerWorker, maxWorkerRSSBytes: maxWorkerRSSBytes,
                                              killGracePeriod: killGracePeriod, collectResults: true)
        if let workerExecutable { configuration.workerExecutable = workerExecutable }
        return configuration
    }
}
