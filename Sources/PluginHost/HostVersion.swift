/// This release of PluginHost: the one place its version is written.
///
/// `plugin-host --version` prints it with the interfaces a plugin or a worker must match, and
/// `make install` takes the pkg-config file's version from that output.
public enum HostVersion {
    /// The host's version (semantic versioning).
    public static let number = "0.9.0"

    /// The version and the interfaces it speaks: `0.9.0 (plugin ABI 2.0, worker protocol 2)`.
    public static var description: String {
        let abi = PluginLibrary.hostABI
        return "\(number) (plugin ABI \(abi.major).\(abi.minor), worker protocol \(Hello.currentProtocolVersion))"
    }
}
