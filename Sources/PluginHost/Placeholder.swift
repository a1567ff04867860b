public enum PluginHostPlaceholder {}
