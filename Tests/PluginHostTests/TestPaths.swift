// Where the test executable, plugin-host, plugin-worker and the plugins are.
import PluginHost

enum TestPaths {
    /// The directory holding the test executable, `plugin-worker`, `plugin-host` and the plugins.
    static var binDirectory: String { PluginCatalog.executableDirectory }
    static var chaosPlugin: String { binDirectory + "/libChaosPlugin.so" }
    static var pluginHost: String { binDirectory + "/plugin-host" }
    static var pluginWorker: String { binDirectory + "/plugin-worker" }
}
