public enum PluginProtocolPlaceholder {}
