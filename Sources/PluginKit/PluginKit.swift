public enum PluginKitPlaceholder {}
