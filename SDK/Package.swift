// swift-tools-version:6.0
import PackageDescription

/// The plugin SDK alone: PluginABI (the C header) and PluginKit (the typed Swift layer), with no
/// dependency, so a plugin package that depends on it resolves and builds nothing of the host
/// (swift-argument-parser, swift-collections, swift-system). `Sources/` holds links to the
/// main package's `Sources/PluginABI` and `Sources/PluginKit`; `make install` copies the files
/// themselves to `PREFIX/share/plugin-host/sdk`. The two targets are declared as in the main
/// manifest.
let package = Package(
    name: "PluginHostSDK",
    products: [
        .library(name: "PluginKit", targets: ["PluginKit"]),
        .library(name: "PluginABI", targets: ["PluginABI"]),
    ],
    targets: [
        .target(name: "PluginABI"),
        .target(name: "PluginKit", dependencies: ["PluginABI"]),
    ],
    swiftLanguageModes: [.v6]
)
