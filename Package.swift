// swift-tools-version:6.0
import PackageDescription

/// The worker and the protocol layer it links are built without the implicit concurrency and
/// regex modules: a one-shot task kind starts one worker per job, and loading those runtimes
/// doubled a worker's start-up time (measured: 6.5 ms -> 3.4 ms for a minimal program).
let leanRuntime: [SwiftSetting] = [
    .unsafeFlags([
        "-Xfrontend", "-disable-implicit-concurrency-module-import",
        "-Xfrontend", "-disable-implicit-string-processing-module-import",
    ]),
]

let package = Package(
    name: "PluginHost",
    products: [
        .library(name: "PluginHost", targets: ["PluginHost"]),
        .library(name: "PluginKit", targets: ["PluginKit"]),
        .executable(name: "plugin-host", targets: ["plugin-host"]),
        .executable(name: "plugin-worker", targets: ["plugin-worker"]),
        // Plugins: each a shared library beside the executables.
        .library(name: "ProofCheck", type: .dynamic, targets: ["ProofCheck"]),
        .library(name: "ChaosPlugin", type: .dynamic, targets: ["ChaosPlugin"]),
        .library(name: "EchoSwiftPlugin", type: .dynamic, targets: ["EchoSwiftPlugin"]),
        .library(name: "FutureABIPlugin", type: .dynamic, targets: ["FutureABIPlugin"]),
        .library(name: "ParMap", type: .dynamic, targets: ["ParMap"]),
        .library(name: "ParMapFixture", type: .dynamic, targets: ["ParMapFixture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The versioned C ABI every plugin implements (header only).
        .target(name: "PluginABI"),
        // Small C shims for libc pieces Swift's Glibc module does not expose.
        .target(name: "CSupport", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        // Wire protocol, plugin loading and process plumbing shared by host and worker.
        // Must not import Foundation: the worker's start-up path stays lean.
        .target(
            name: "PluginProtocol",
            dependencies: ["PluginABI", "CSupport"],
            swiftSettings: leanRuntime
        ),
        // Typed Swift layer for plugins written in Swift.
        .target(name: "PluginKit", dependencies: ["PluginABI"]),
        // The master: queue, pool, scheduling, events.
        .target(
            name: "PluginHost",
            dependencies: [
                "PluginProtocol", "PluginABI", "CSupport",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            // Release builds drop the run-time exclusivity checks of this module only: its mutable
            // state is class properties guarded by the scheduler lock (or a worker's io lock), and
            // the checks were ~2,000 of ~11,000 master instructions per task (callgrind). Debug
            // builds, and so the whole test suite, keep them: a conflicting access still traps there.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "plugin-host",
            dependencies: [
                "PluginHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "plugin-worker",
            dependencies: [
                "PluginProtocol", "PluginABI", "CSupport",
            ],
            // Single-threaded; as for PluginHost, release builds skip the run-time exclusivity
            // checks (~500 of ~3,200 worker instructions per request), debug builds keep them.
            swiftSettings: leanRuntime
                + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // The README's library example, built with the rest so it cannot rot (CLITests run it).
        .executableTarget(name: "library-example", dependencies: ["PluginHost"], path: "Examples/library"),
        // ProofCheck: the Metamath verifier (MetamathKit) and its task kind. Workers load both,
        // so neither links Foundation. swift-system (errno, as in the host) adds no runtime to
        // libProofCheck.so: PluginKit already links the ones its objects bring.
        .target(
            name: "MetamathKit",
            dependencies: ["CMetamath", .product(name: "SystemPackage", package: "swift-system")],
            path: "Plugins/ProofCheck/Sources/MetamathKit",
            swiftSettings: leanRuntime
        ),
        // A cache prefetch hint for MetamathKit's hash tables (header-only C).
        .target(name: "CMetamath", path: "Plugins/ProofCheck/Sources/CMetamath"),
        .target(
            name: "ProofCheck",
            dependencies: ["PluginKit", "MetamathKit"],
            path: "Plugins/ProofCheck/Sources/ProofCheck",
            swiftSettings: leanRuntime
        ),
        // MetamathKit in one process: the peer of ProofCheck's benchmark.
        .executableTarget(
            name: "metamath-verify",
            dependencies: ["MetamathKit"],
            path: "Benchmarks/metamath-verify"
        ),
        // Fixture plugins used by the tests and the demo.
        .target(name: "ChaosPlugin", dependencies: ["PluginABI", "FixtureSupport"], path: "Tests/Fixtures/ChaosPlugin"),
        // What the fixture plugins share (finding the master from a worker).
        .target(name: "FixtureSupport", path: "Tests/Fixtures/FixtureSupport"),
        .target(name: "EchoSwiftPlugin", dependencies: ["PluginKit"], path: "Tests/Fixtures/EchoSwiftPlugin"),
        .target(name: "FutureABIPlugin", dependencies: ["PluginABI"], path: "Tests/Fixtures/FutureABIPlugin"),
        // The parmap task kind, in C: any C function over lines of input, through libffi (libffi-dev).
        .target(
            name: "ParMap", dependencies: ["PluginABI"], path: "Plugins/ParMap",
            cSettings: [.unsafeFlags(["-Wall", "-Wextra"])],
            linkerSettings: [.linkedLibrary("ffi"), .linkedLibrary("dl")]
        ),
        // Functions the parmap tests and benchmarks call (crash, hang, strings, mixed types, ~1 µs work).
        .target(name: "ParMapFixture", dependencies: ["FixtureSupport"], path: "Tests/Fixtures/ParMapFixture"),
        // Tests, one target per module. The CLI-level tests run the built `plugin-host`, which
        // finds the plugins beside itself: `swift build --build-tests` builds every product.
        // Helpers shared by several test targets: paths, processes, files, runs under test.
        .target(name: "TestSupport", dependencies: ["PluginHost", "PluginProtocol"], path: "Tests/TestSupport"),
        .testTarget(name: "PluginKitTests", dependencies: ["PluginKit", "PluginABI", "TestSupport"]),
        .testTarget(
            name: "PluginProtocolTests",
            dependencies: ["PluginProtocol", "TestSupport", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .testTarget(name: "PluginHostTests", dependencies: ["PluginHost", "PluginProtocol", "PluginABI", "TestSupport", "plugin-host", "library-example"]),
        .testTarget(name: "MetamathKitTests", dependencies: ["MetamathKit"]),
        .testTarget(name: "ProofCheckTests", dependencies: ["PluginHost", "PluginProtocol", "TestSupport"]),
        .testTarget(name: "ParMapTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
