// The chaos fixture plugin, loaded once for the engine tests.
import PluginProtocol

/// The chaos plugin, loaded once.
enum Chaos {
    static let library: PluginLibrary = {
        do { return try PluginLibrary(path: TestPaths.chaosPlugin) } catch {
            fatalError("cannot load \(TestPaths.chaosPlugin): \(error)")
        }
    }()
}
