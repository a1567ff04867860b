// plugin-worker: the generic worker process. It loads one task-kind plugin and performs the
// requests the master sends over standard input, answering on standard output.
import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Moves the protocol off fds 0 and 1 so that plugin prints cannot corrupt it: stdout now goes
/// to stderr and stdin reads /dev/null. Returns the private (close-on-exec) protocol descriptors.
func takeProtocolDescriptors() -> (input: Descriptor, output: Descriptor) {
    let input = fcntl(0, F_DUPFD_CLOEXEC, 3)
    let output = fcntl(1, F_DUPFD_CLOEXEC, 3)
    guard input >= 0, output >= 0 else {
        printError("plugin-worker: cannot duplicate the protocol descriptors")
        exit(2)
    }
    dup2(2, 1)
    // Line by line, as on a terminal: a plugin's printf reaches the master's stderr as it is made
    // (fully buffered, as a pipe would make it, it would wait for an exit that never flushes).
    csupport_line_buffer_stdout()
    let null = open("/dev/null", O_RDONLY)
    if null >= 0 {
        dup2(null, 0)
        close(null)
    }
    // (A fork server sets it for its workers, whose output is always descriptor 4: no setenv,
    // which copies the environment, in each of them.)
    let named = String(output)
    if getenv("PLUGIN_HOST_PROTOCOL_FD").map({ String(cString: $0) }) != named {
        setenv("PLUGIN_HOST_PROTOCOL_FD", named, 1)
    }
    return (Descriptor(input), Descriptor(output))
}

/// Reports a start-up failure to the master as an error frame (the master shows it as a spawn
/// failure) and on stderr, then exits with status 2.
func failStart(_ message: String, writer: inout FrameWriter) -> Never {
    try? writer.write(Frame(type: .error, payload: Array(message.utf8)))
    printError(message)
    exit(2)
}

/// Makes sure this process is in the cgroup the master made for it (`PLUGIN_HOST_CGROUP`, or
/// `path` for a worker forked by the fork server) before any plugin code runs, so that
/// everything the plugin starts is killed with the worker. The master moves a spawned worker
/// there right after the spawn, while the worker starts (moving costs the kernel a few hundred
/// microseconds): the worker moves itself only if it got here first.
func joinCgroup(_ given: String? = nil) {
    var path = given ?? ""
    if given == nil {
        guard let variable = getenv("PLUGIN_HOST_CGROUP") else { return }
        path = String(cString: variable)
        unsetenv("PLUGIN_HOST_CGROUP")
    }
    if path.isEmpty { return }
    if given != nil {
        // Forked by the fork server, which is in no worker's cgroup: nobody moved it yet.
        moveSelf(into: path)
        return
    }
    // /proc/self/cgroup says "0::/plugin-host.PID.N/wK"; the path names the same directory
    // under the cgroup2 mount point.
    var own = ""
    let fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        close(fd)
        if count > 0 {
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            own = text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? ""
        }
    }
    if own.count > 1 && path.hasSuffix(own) { return }
    moveSelf(into: path)
}

/// Writes this process into the cgroup directory `path`.
private func moveSelf(into path: String) {
    let procs = open(path + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
    guard procs >= 0 else { return }
    _ = write(procs, "0", 1)
    close(procs)
}

/// A worker process started by exec: set-up from its command line, then ``serveWorker(_:name:heartbeat:heartbeatMisses:)``.
func workerMain() -> Never {
    signal(SIGPIPE, SIG_DFL)
    let descriptors = takeProtocolDescriptors()
    csupport_close_in_forked_children(descriptors.input.rawValue, descriptors.output.rawValue)
    var writer = FrameWriter(descriptor: descriptors.output)

    let arguments: WorkerArguments
    switch WorkerArguments.parse(Array(CommandLine.arguments.dropFirst())) {
    case .success(let parsed): arguments = parsed
    case .failure(let error): failStart(error.message, writer: &writer)
    }

    // Die with the master: a parent-death signal, then a check that the parent did not die first.
    if let parent = arguments.parentPID {
        _ = csupport_set_parent_death_signal(SIGKILL)
        if getppid() != parent { exit(2) }
    }
    csupport_install_stop_handler()
    joinCgroup()
    if let limit = WorkerAddressSpaceLimit.take(), !WorkerAddressSpaceLimit.apply(limit) {
        failStart("plugin-worker: cannot set the address-space limit of \(limit) bytes: \(SystemError(code: errno))",
                  writer: &writer)
    }

    let plugin: PluginLibrary
    do {
        plugin = try PluginLibrary(path: arguments.pluginPath)
    } catch {
        failStart(error.description, writer: &writer)
    }
    serveWorker(plugin, name: arguments.workerName, descriptors: descriptors, heartbeat: arguments.heartbeat,
                heartbeatMisses: arguments.heartbeatMisses)
}

/// A worker forked by the fork server, which loaded `plugin` before: its standard streams are
/// the master's pipes, it joins `cgroup` (empty: none), takes the address-space limit the server
/// was given for its workers (nil: none), then serves like any worker, named by `start`. A spare
/// (`start` nil) is ready at that point and waits for its start message from the master: until
/// then no plugin code runs in it, and at end of file it exits.
func forkedWorkerMain(_ plugin: PluginLibrary, commandLines: ForkedCommandLines, cgroup: String, addressSpaceLimit: UInt64?,
                      start given: SpareWorkerStart?) -> Never {
    if given == nil { setCommandLine(bytes: commandLines.spare) }
    let descriptors = takeProtocolDescriptors()
    csupport_close_in_forked_children(descriptors.input.rawValue, descriptors.output.rawValue)
    csupport_install_stop_handler()
    joinCgroup(cgroup)
    if let addressSpaceLimit, !WorkerAddressSpaceLimit.apply(addressSpaceLimit) {
        printError("plugin-worker: cannot set the address-space limit of \(addressSpaceLimit) bytes: \(SystemError(code: errno))")
        exit(2)
    }
    // (Its hello comes after worker_init, as every worker's: the master starts the clock of its
    // first task, and counts a crash in worker_init as a start failure, only then.)
    guard let start = given ?? SpareWorkerStart.read(from: descriptors.input) else { exit(0) }
    // As a spawned worker's, its command line names it (for ps, and for tests that must tell a
    // live worker from a reused pid).
    commandLines.setNamed(start.name)
    serveWorker(plugin, name: start.name, descriptors: descriptors, heartbeat: start.heartbeat,
                heartbeatMisses: start.heartbeatMisses)
}

/// This process's hello for `plugin`.
func hello(of plugin: PluginLibrary) -> Hello {
    Hello(abiMajor: plugin.descriptor.abi_major, abiMinor: plugin.descriptor.abi_minor, pid: getpid(),
          pluginDigest: plugin.digest, pluginName: plugin.name, pluginVersion: plugin.version)
}

/// `words`, each ended by a NUL byte.
func commandLineBytes(_ words: [String]) -> [UInt8] {
    var bytes: [UInt8] = []
    for word in words {
        bytes += word.utf8
        bytes.append(0)
    }
    return bytes
}

/// Rewrites this process's command line (what `ps` shows) to its executable and `words`.
func setCommandLine(_ words: [String]) {
    setCommandLine(bytes: commandLineBytes(words))
}

/// Rewrites this process's command line to its executable and `bytes` (words each ended by NUL).
func setCommandLine(bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { setCommandLine(raw: $0) }
}

private func setCommandLine(raw buffer: UnsafeBufferPointer<UInt8>) {
    _ = buffer.withMemoryRebound(to: CChar.self) {
        csupport_set_command_line(CommandLine.unsafeArgv, CommandLine.argc, $0.baseAddress, $0.count)
    }
}

/// The command lines of a fork server's workers, made once in the server: a waiting spare's
/// (`--spare --plugin PATH`) and the end of a named worker's (`--plugin PATH`).
struct ForkedCommandLines {
    let spare: [UInt8]
    let suffix: [UInt8]

    init(pluginPath: String) {
        spare = commandLineBytes(["--spare", "--plugin", pluginPath])
        suffix = commandLineBytes(["--plugin", pluginPath])
    }

    /// Names this worker on its command line, `--name NAME --plugin PATH`, built on the stack.
    func setNamed(_ name: String) {
        var name = name
        name.withUTF8 { nameBytes in
            let prefix: StaticString = "--name"
            let total = prefix.utf8CodeUnitCount + 1 + nameBytes.count + 1 + suffix.count
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer in
                var used = 0
                func append(_ bytes: UnsafeBufferPointer<UInt8>, ended: Bool) {
                    for byte in bytes {
                        buffer[used] = byte
                        used += 1
                    }
                    if ended {
                        buffer[used] = 0
                        used += 1
                    }
                }
                append(UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount), ended: true)
                append(nameBytes, ended: true)
                suffix.withUnsafeBufferPointer { append($0, ended: false) }
                setCommandLine(raw: UnsafeBufferPointer(rebasing: buffer[0..<used]))
            }
        }
    }
}

/// The worker's life once its plugin is loaded: `worker_init`, the handshake, then requests until
/// the master closes the pipe.
func serveWorker(_ plugin: PluginLibrary, name workerName: String, descriptors: (input: Descriptor, output: Descriptor),
                 heartbeat: Double?, heartbeatMisses: Int) -> Never {
    let workerInstance: UnsafeMutableRawPointer? = workerName.withCString { name in
        // get_extension is never NULL (ABI 2); no extension is offered at start-up yet.
        var params = ph_worker_params(worker_name: name, host_data: nil, get_extension: { _, _ in nil })
        return plugin.descriptor.worker_init?(&params)
    }

    var helloWriter = FrameWriter(descriptor: descriptors.output)
    do {
        try helloWriter.write(Frame(type: .hello, payload: hello(of: plugin).encoded()))
    } catch {
        exit(2)
    }

    // With heartbeats (a launched worker), a reader thread takes the master's frames as they come.
    let link = heartbeat.map { _ in MasterLink(name: workerName) }
    let source = FrameSource(input: descriptors.input, link: link)
    let session = PerformSession(writer: helloWriter, writeLock: link?.writeLock, source: source)
    if let link, let interval = heartbeat {
        link.start(input: descriptors.input, output: descriptors.output, interval: interval, misses: heartbeatMisses)
    }
    while true {
        switch source.next() {
        case .frame(let frame):
            link?.setPerforming(true)
            handle(frame, plugin: plugin, worker: workerInstance, session: session, name: workerName)
            link?.setPerforming(false)
        case .end:
            // The master closed the pipe: it is done with us, or gone.
            plugin.descriptor.worker_fini?(workerInstance)
            exit(0)
        case .failure(let message):
            printError("plugin-worker: \(workerName): \(message)")
            exit(2)
        }
    }
}

/// Performs one frame from the master: a request, or a broadcast between requests.
func handle(_ frame: ReceivedFrame, plugin: PluginLibrary, worker: UnsafeMutableRawPointer?, session: PerformSession,
            name: String) {
    switch frame.type {
    case .request:
        do {
            try session.run(plugin: plugin, worker: worker, request: frame)
        } catch {
            exit(0)  // The master went away while we answered.
        }
    case .broadcast:
        frame.payload.withUnsafeBufferPointer { bytes in
            plugin.descriptor.on_broadcast?(worker, ph_bytes(data: bytes.baseAddress, len: bytes.count))
        }
    default:
        // (Heartbeats never get here: the frame source absorbs them.)
        printError("plugin-worker: \(name): unexpected \(frame.type) frame from the master")
        exit(2)
    }
}

if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "--probe" {
    probeMain(Array(CommandLine.arguments.dropFirst()))
}
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "--fork-server" {
    forkServerMain(Array(CommandLine.arguments.dropFirst(2)))
}
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "--agent" {
    agentMain(Array(CommandLine.arguments.dropFirst(2)))
}
workerMain()
