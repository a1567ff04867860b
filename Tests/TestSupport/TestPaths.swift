// Where the test executable, plugin-host, plugin-worker and the plugins are.
import PluginHost

public enum TestPaths {
    /// The directory holding the test executable, `plugin-worker`, `plugin-host` and the plugins.
    public static var binDirectory: String { PluginCatalog.executableDirectory }
    public static var chaosPlugin: String { binDirectory + "/libChaosPlugin.so" }
    public static var pluginHost: String { binDirectory + "/plugin-host" }
    public static var pluginWorker: String { binDirectory + "/plugin-worker" }
}
