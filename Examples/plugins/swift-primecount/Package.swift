// swift-tools-version:6.0
import PackageDescription

// The plugin SDK (PluginKit alone, no other dependency) that `make install` puts in
// PREFIX/share/plugin-host/sdk: `pkg-config --variable=sdkdir plugin-host` names it.
let sdk = Context.environment["PLUGIN_HOST_SDK"] ?? "/usr/local/share/plugin-host/sdk"

let package = Package(
    name: "PrimeCount",
    products: [
        // A shared library, libPrimeCount.so, that plugin-host loads.
        .library(name: "PrimeCount", type: .dynamic, targets: ["PrimeCount"]),
    ],
    dependencies: [.package(path: sdk)],
    targets: [
        .target(name: "PrimeCount", dependencies: [.product(name: "PluginKit", package: "sdk")]),
    ],
    swiftLanguageModes: [.v6]
)
