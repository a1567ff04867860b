// The protocol layer's public types (PluginLibrary, WorkerPolicy, PluginLoadError) are part of
// the host's API: programs that embed the host import PluginHost alone.
@_exported import PluginProtocol
