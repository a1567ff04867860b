// The chaos fixture plugin, loaded once for the engine tests.
import PluginProtocol

/// The chaos plugin, loaded once.
public enum Chaos {
    public static let library: PluginLibrary = {
        do { return try PluginLibrary(path: TestPaths.chaosPlugin) } catch {
            fatalError("cannot load \(TestPaths.chaosPlugin): \(error)")
        }
    }()
}
