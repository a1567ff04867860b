// A copy of the chaos plugin that a test hides from an agent's "host".
import Foundation

/// A copy of the chaos plugin in a directory of its own, `TEMP/plugins`, which a test hides from
/// an agent's host by mounting a tmpfs over it in the agent's own mount namespace
/// (`unshare -m`), as on a node with nothing installed.
public struct HiddenPlugin {
    /// The directory to hide.
    public let directory: String
    /// The plugin file in it.
    public let path: String

    /// Copies the plugin into `temporary`; throws (a test requirement) where this process cannot
    /// make mount namespaces (`unshare -m` needs root).
    public init(in temporary: TemporaryDirectory) throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["-m", "true"]
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw HiddenPluginError() }
        directory = temporary.file("plugins")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/libChaosPlugin.so"
        try FileManager.default.copyItem(atPath: TestPaths.chaosPlugin, toPath: path)
    }
}

/// `unshare -m` failed: the test needs mount namespaces (root).
public struct HiddenPluginError: Error, CustomStringConvertible {
    public var description: String { "needs unshare -m (root) to hide the plugin from the agent's host" }
}
