import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// A worker's memory limit as an address-space limit (`RLIMIT_AS`), for machines where the
/// host cannot give the worker a cgroup with `memory.max`: the master names it in the worker's
/// environment, the worker sets it before it loads the plugin, and a worker whose allocation
/// failed under it says so on stderr with ``outOfMemoryLine`` as it dies.
public enum WorkerAddressSpaceLimit {
    /// The environment variable that carries the limit, in bytes, to `plugin-worker`.
    public static let environmentVariable = "PLUGIN_HOST_ADDRESS_SPACE_LIMIT"

    /// The option that gives a worker agent (`plugin-worker --agent`) the limit, in bytes: the
    /// agent puts it in the environment of the fork servers and workers it starts, not on itself.
    public static let agentOption = "--address-space-limit"

    /// The line a worker writes to stderr when it dies of a fatal signal just after an
    /// allocation failed (errno `ENOMEM`) under the limit: the limit's signature.
    public static let outOfMemoryLine = "plugin-worker: out of memory: an allocation failed under the address-space limit"

    /// Reads and removes ``environmentVariable`` (so the plugin's own children do not see it):
    /// the limit in bytes, or nil when none was given.
    public static func take() -> UInt64? {
        guard let value = getenv(environmentVariable) else { return nil }
        let bytes = UInt64(String(cString: value))
        unsetenv(environmentVariable)
        return bytes
    }

    /// Hands `bytes` to the processes this one starts from now on (``environmentVariable``), as
    /// the master does for its own workers (the worker agent).
    public static func handDown(_ bytes: UInt64) {
        setenv(environmentVariable, String(bytes), 1)
    }

    /// Sets the limit on this process and installs the signature's signal handlers. Returns
    /// false when the limit could not be set.
    @discardableResult
    public static func apply(_ bytes: UInt64) -> Bool {
        csupport_limit_address_space(bytes, outOfMemoryLine) == 0
    }
}
