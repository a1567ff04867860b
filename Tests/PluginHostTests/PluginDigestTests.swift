// The plugin digest in the handshake: master and worker must run the same build of a plugin.
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Plugin digest")
struct PluginDigestTests {
    /// Where the GNU build-id note's 20 id bytes start in an ELF file (note header: name size 4,
    /// descriptor size 20, type 3 = NT_GNU_BUILD_ID, name "GNU\0"), or nil.
    static func buildIDOffset(in bytes: [UInt8]) -> Int? {
        let header: [UInt8] = [4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 0x47, 0x4E, 0x55, 0]
        guard bytes.count > header.count + 20 else { return nil }
        for start in 0...(bytes.count - header.count - 20) where bytes[start] == 4 {
            if Array(bytes[start..<(start + header.count)]) == header { return start + header.count }
        }
        return nil
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        precondition(fd >= 0, "cannot create \(path)")
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        close(fd)
    }

    @Test("a loaded plugin is identified by its build id: stable, and not a hash of the file")
    func buildIDDigest() throws {
        let again = try PluginLibrary(path: TestPaths.chaosPlugin)
        #expect(again.digest == Chaos.library.digest)
        #expect(Chaos.library.digest != 0)
        let bytes = try #require(ProcessProbe.readFile(TestPaths.chaosPlugin))
        #expect(Self.buildIDOffset(in: bytes) != nil, "the SwiftPM-built chaos plugin carries a build id")
        #expect(Chaos.library.digest != PluginDigest.ofFile(atPath: TestPaths.chaosPlugin),
                "the digest comes from the build id, not from reading the file")
        let echo = TestPaths.binDirectory + "/libEchoSwiftPlugin.so"
        if access(echo, R_OK) == 0 {
            #expect(try PluginLibrary(path: echo).digest != Chaos.library.digest)
        }
    }

    @Test("a worker that loaded another build of the same plugin is refused at the handshake")
    func otherBuildIsRefused() async throws {
        // Another build of chaos: the same code and name, another build id.
        let directory = TemporaryDirectory()
        var bytes = try #require(ProcessProbe.readFile(TestPaths.chaosPlugin))
        let offset = try #require(Self.buildIDOffset(in: bytes))
        bytes[offset] ^= 0xFF
        let otherBuild = directory.file("libChaosPlugin.so")
        Self.writeBytes(bytes, to: otherBuild)
        let loaded = try PluginLibrary(path: otherBuild)
        #expect(loaded.name == Chaos.library.name)
        #expect(loaded.digest != Chaos.library.digest)
        let script = directory.write("other-build-worker", """
            #!/bin/sh
            # argv: --plugin PATH --name NAME --parent-pid PID
            exec "\(TestPaths.pluginWorker)" --plugin "\(otherBuild)" --name "$4" --parent-pid "$6"

            """)
        // (The script rewrites a spawned worker's arguments: the exec path, not the default fork
        // server.)
        let test = try TestRun(chaos: ["echo:a"], .test(jobs: 1, workerExecutable: script, forkServer: false))
        let report = try await test.startAndFinish(timeout: 30)
        try SpawnFailureTests.expectSpawnFailure(report, test.log, tasks: 1, mentioning: "differs from the master's")
    }
}
