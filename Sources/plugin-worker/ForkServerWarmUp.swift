import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Runs, once in the fork server before it forks anything, the worker's own code paths up to the
/// plugin's (never plugin code: the server runs no job, so its workers start clean): the start
/// message of a spare, its command line, a hello written and read back as a frame, a session.
/// The Swift runtime instantiates their generic metadata here, once, and every forked worker
/// inherits it; without this each fresh worker paid for it anew (measured with `perf`: about a
/// tenth of a forked worker's CPU, in `swift_instantiateConcreteTypeFromMangledName`).
func warmUpWorkerPaths(_ plugin: PluginLibrary) {
    var ends: [Int32] = [-1, -1]
    guard csupport_pipe_cloexec(&ends) == 0 else { return }
    defer {
        close(ends[0])
        close(ends[1])
    }
    let input = Descriptor(ends[0])
    let output = Descriptor(ends[1])
    _ = commandLineBytes(["--name", "warm-up:0:0", "--plugin", plugin.path])
    _ = String(Int32(3))
    if let message = SpareWorkerStart(name: "warm-up:0:0", heartbeat: 1, heartbeatMisses: 3).encoded() {
        _ = message.withUnsafeBytes { output.writeAllResult($0) }
        _ = SpareWorkerStart.read(from: input)
    }
    let greeting = hello(of: plugin)
    let source = FrameSource(input: input, link: nil)
    let session = PerformSession(writer: FrameWriter(descriptor: output), writeLock: nil, source: source)
    try? session.write(type: .hello, id: 0, bytes: greeting.encoded())
    _ = source.next()
    try? session.write(type: .response, id: 1, bytes: Array("warm-up".utf8))
    _ = source.next()
}
