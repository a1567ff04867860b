import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `plugin-worker --agent [--heartbeat SECONDS [--heartbeat-misses N]] [--parent-pid PID]
/// [--connect-back PORT]`: one per host, started once by the master's launcher (ssh, srun, …). It
/// carries every worker of its host over its standard input and output (``FrameType/agentHello``
/// and the frame types after it), or with `--connect-back` over a TCP connection to the master
/// (see ``AgentConnectBack``; standard input then only tells, by its end, that the master is
/// gone), starts each worker from a fork server that loaded the plugin once (so a fresh worker
/// is a `fork`, not an `exec`, a dynamic link and a runtime start), fetches a plugin the host
/// lacks from the master, and reports each worker's end.
///
/// It is single-threaded: one `poll` loop over the connection, the workers' pipes and the fork
/// servers. End of file from the master, or its silence for MISSES heartbeat intervals, kills
/// every worker and ends the agent (the fork servers and their workers die with it).
func agentMain(_ arguments: [String]) -> Never {
    signal(SIGPIPE, SIG_IGN)
    // Six descriptors per worker being started, four per worker running: a host with hundreds
    // of slots needs more than a login session's usual soft limit of 1,024.
    DescriptorLimit.raiseToHardLimit()
    var heartbeat: Double?
    var misses = 3
    var connectBackPort: Int32?
    var index = 0
    while index + 1 < arguments.count {
        let value = arguments[index + 1]
        switch arguments[index] {
        case "--heartbeat": heartbeat = Double(value).flatMap { $0 > 0 ? $0 : nil }
        case "--heartbeat-misses": misses = max(1, Int(value) ?? 3)
        case "--connect-back": connectBackPort = Int32(value)
        case WorkerAddressSpaceLimit.agentOption:  // (--worker-memory: for its workers, not the agent.)
            if let bytes = UInt64(value) { WorkerAddressSpaceLimit.handDown(bytes) }
        case "--parent-pid":
            if let parent = Int32(value) {
                _ = csupport_set_parent_death_signal(SIGKILL)
                if getppid() != parent { exit(2) }
            }
        default: break  // (--name: the agent's name is for ps only.)
        }
        index += 2
    }
    let socket = connectBack(port: connectBackPort)
    let agent = Agent(connection: socket ?? 0, watchesStandardInput: socket != nil, heartbeat: heartbeat, misses: misses)
    agent.run()
}

/// With `--connect-back PORT`: a connection to the master at ``AgentConnectBack/addressVariable``
/// that has sent the secret of ``AgentConnectBack/secretVariable``, or nil (the agent then
/// speaks over its standard input and output, and says on stderr why). The secret leaves the
/// environment either way: no worker inherits it.
private func connectBack(port: Int32?) -> Int32? {
    let secret = getenv(AgentConnectBack.secretVariable).map { Array(String(cString: $0).utf8) }
    unsetenv(AgentConnectBack.secretVariable)
    guard let port else { return nil }
    guard let secret, secret.count == AgentConnectBack.secretLength else {
        printError("plugin-worker: agent: no \(AgentConnectBack.secretVariable) in the environment; using the launcher's relay")
        return nil
    }
    guard let address = getenv(AgentConnectBack.addressVariable).map({ String(cString: $0) }) else {
        printError("plugin-worker: agent: no \(AgentConnectBack.addressVariable) in the environment; using the launcher's relay")
        return nil
    }
    let socket = csupport_tcp_connect(address, port, 3000)
    guard socket >= 0 else {
        printError("plugin-worker: agent: cannot connect back to \(address):\(port) (\(SystemError.current)); using the launcher's relay")
        return nil
    }
    guard secret.withUnsafeBytes({ Descriptor(socket).writeAllResult($0) }) == nil else {
        printError("plugin-worker: agent: cannot send to \(address):\(port) (\(SystemError.current)); using the launcher's relay")
        close(socket)
        return nil
    }
    return socket
}

/// The agent's state and loop (see ``agentMain(_:)``).
final class Agent {
    /// The master's frames come from here: standard input, or the connection back to it.
    private let input: Int32
    /// With a connection back: standard input, watched for its end only.
    private let launcherInput: Int32?
    private var writer: FrameWriter
    private var decoder = FrameDecoder(maximumPayload: Agent.largestPiece + 4096)
    private var workers: [UInt64: AgentWorker] = [:]
    private var servers: [String: AgentForkServer] = [:]
    private let plugins = AgentPlugins()
    /// Spawns waiting for a plugin from the master, by request number.
    private var waitingForPlugin: [UInt64: [(worker: AgentWorker, pluginPath: String)]] = [:]
    private let heartbeat: UInt64?
    private let silenceLimit: UInt64
    private var lastHeard = monotonicNanoseconds()
    private var lastBeat = monotonicNanoseconds()
    private var lastMemoryReading = monotonicNanoseconds()
    /// This program, to start fork servers and workers.
    private let executable: String

    /// The most bytes of one worker relayed in one frame, either way.
    static let largestPiece = 1 << 20

    /// `connection`: the descriptor that carries the protocol both ways (0 for standard input and
    /// output); `watchesStandardInput`: standard input is the launcher's, whose end ends the agent.
    init(connection: Int32, watchesStandardInput: Bool, heartbeat: Double?, misses: Int) {
        input = connection
        launcherInput = watchesStandardInput ? 0 : nil
        writer = FrameWriter(descriptor: Descriptor(connection == 0 ? 1 : connection))
        self.heartbeat = heartbeat.map { UInt64($0 * 1e9) }
        silenceLimit = (self.heartbeat ?? 0) &* UInt64(misses)
        var path = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &path, path.count - 1)
        executable = length > 0 ? String(decoding: path[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments[0]
    }

    func run() -> Never {
        var name = [UInt8](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        writer.queue(type: .agentHello, id: 0,
                     payload: AgentFields.encode([String(AgentFields.agentVersion), String(Hello.currentProtocolVersion),
                                                  String(getpid()), host]))
        flush()
        while true {
            var watched: [pollfd] = [pollfd(fd: input, events: Int16(POLLIN), revents: 0)]
            var owners: [(AgentWorker?, AgentForkServer?, Int)] = [(nil, nil, 0)]
            if let launcherInput {
                watched.append(pollfd(fd: launcherInput, events: Int16(POLLIN), revents: 0)); owners.append((nil, nil, 6))
            }
            for worker in workers.values {
                if worker.output >= 0 { watched.append(pollfd(fd: worker.output, events: Int16(POLLIN), revents: 0)); owners.append((worker, nil, 1)) }
                if worker.errors >= 0 { watched.append(pollfd(fd: worker.errors, events: Int16(POLLIN), revents: 0)); owners.append((worker, nil, 2)) }
                if worker.input >= 0 && worker.hasPendingInput {
                    watched.append(pollfd(fd: worker.input, events: Int16(POLLOUT), revents: 0)); owners.append((worker, nil, 3))
                }
                if case .agent(let pidfd)? = worker.parent, worker.awaited, worker.termination == nil, pidfd >= 0 {
                    watched.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)); owners.append((worker, nil, 4))
                }
            }
            for server in servers.values where server.socket >= 0 {
                watched.append(pollfd(fd: server.socket, events: Int16(POLLIN), revents: 0)); owners.append((nil, server, 5))
            }
            let ready = retryingOnInterrupt { poll(&watched, nfds_t(watched.count), pollTimeout()) }
            if ready < 0 { shutDown(status: 2, "poll: \(SystemError.current)") }
            for (offset, entry) in watched.enumerated() where entry.revents != 0 {
                let (worker, server, what) = owners[offset]
                switch what {
                case 0: readConnection()
                case 1: relay(worker!, error: false)
                case 2: relay(worker!, error: true)
                case 3: worker!.writePending()
                case 4 where worker!.termination == nil: reapSpawned(worker!)
                case 4: break
                case 6: readLauncherInput()
                // (Its answers may have been read meanwhile, by a spawn handled above: only what
                // is still there, never a blocking read.)
                default: drainAnswers(of: server!)
                }
            }
            tick()
            flush()
        }
    }

    // MARK: The connection

    /// Milliseconds until the next heartbeat or memory reading is due (-1: none).
    private func pollTimeout() -> Int32 {
        var due: UInt64?
        if let heartbeat { due = lastBeat &+ heartbeat }
        if workers.values.contains(where: isMeasured) { due = min(due ?? .max, lastMemoryReading &+ Agent.memoryInterval) }
        guard let due else { return -1 }
        let now = monotonicNanoseconds()
        return due <= now ? 0 : Int32(min(UInt64(Int32.max), (due - now) / 1_000_000 + 1))
    }

    /// Nanoseconds between readings of a running worker's resident memory, for a master that
    /// asked for it: it kills a worker over `--max-worker-rss` during a job, as it does with its
    /// own machine's workers.
    static let memoryInterval: UInt64 = 100_000_000

    /// True while `worker`'s memory goes to the master: it asked, and the worker's pid is its
    /// own (see ``AgentWorker/pidIsItsOwn``).
    private func isMeasured(_ worker: AgentWorker) -> Bool {
        worker.reportsMemory && worker.pidIsItsOwn
    }

    /// Sends `worker`'s resident memory, unless its pid may no longer be its own.
    private func reportMemory(of worker: AgentWorker) {
        let bytes = worker.residentBytes
        if bytes >= 0 { writer.queue(type: .agentMemory, id: worker.id, payload: Array(String(bytes).utf8)) }
    }

    /// Heartbeats, memory readings, and the master's silence.
    private func tick() {
        let now = monotonicNanoseconds()
        if now &- lastMemoryReading >= Agent.memoryInterval {
            lastMemoryReading = now
            for worker in workers.values where isMeasured(worker) { reportMemory(of: worker) }
        }
        guard let heartbeat else { return }
        if now &- lastHeard > silenceLimit {
            shutDown(status: 3, "no word from the master for \(Double((now &- lastHeard) / 1_000_000) / 1000) s; exiting")
        }
        if now &- lastBeat >= heartbeat {
            writer.queue(type: .heartbeat, id: 0, payload: [])
            lastBeat = now
        }
    }

    private func flush() {
        do {
            try writer.flush()
        } catch {
            shutDown(status: 0, nil)  // The master is gone.
        }
    }

    /// With a connection back, the launcher's input carries nothing but its end: the master (or
    /// the launcher) is gone.
    private func readLauncherInput() {
        var scratch = [UInt8](repeating: 0, count: 512)
        if retryingOnInterrupt({ read(0, &scratch, scratch.count) }) <= 0 { shutDown(status: 0, nil) }
    }

    /// Reads what the master sent and carries out each whole frame.
    private func readConnection() {
        let input = self.input
        let result = decoder.fill(atMost: 1 << 18) { Descriptor(input).readResult(into: $0) }
        switch result {
        case .success(0): shutDown(status: 0, nil)  // The master closed the connection: done.
        case .success: lastHeard = monotonicNanoseconds()
        case .failure(let error): shutDown(status: 2, "cannot read from the master: \(error)")
        }
        while true {
            let frame: ReceivedFrame
            do {
                guard let next = try decoder.nextReceived() else { return }
                frame = next
            } catch {
                shutDown(status: 2, "unreadable input from the master: \(error)")
            }
            handle(frame)
        }
    }

    private func handle(_ frame: ReceivedFrame) {
        switch frame.type {
        case .heartbeat: break
        case .agentSpawn: spawn(frame.id, AgentFields.decode(frame.payload))
        case .agentInput: workers[frame.id]?.send(frame.payload)
        case .agentCloseInput:
            if let worker = workers[frame.id] {
                worker.closeRequested = true
                worker.writePending()
            }
        case .agentSignal:
            if let number = Int32(String(decoding: frame.payload, as: UTF8.self)) { workers[frame.id]?.signal(number) }
        case .agentWait:
            if let worker = workers[frame.id] {
                if worker.pid == 0 { worker.abandoned = true }  // Given up before it started.
                awaitEnd(of: worker)
            }
        case .blobData:
            if !plugins.received(frame.payload, request: frame.id) {
                pluginArrived(request: frame.id, problem: "the plugin sent is longer than announced, or cannot be kept here")
            }
        case .blobEnd:
            pluginArrived(request: frame.id, problem: frame.payload.isEmpty ? nil : String(decoding: frame.payload, as: UTF8.self))
        default:
            shutDown(status: 2, "unexpected \(frame.type) frame from the master")
        }
    }

    // MARK: Workers

    /// `agentSpawn`: starts worker `id` once its plugin is here.
    private func spawn(_ id: UInt64, _ fields: [String]) {
        guard fields.count == 5, let size = UInt64(fields[3]), workers[id] == nil else {
            writer.queue(type: .agentSpawnFailed, id: id, payload: Array("agent: malformed spawn request".utf8))
            return
        }
        var pipes = [[Int32]](repeating: [-1, -1], count: 3)
        for index in 0..<3 where csupport_pipe_cloexec(&pipes[index]) != 0 {
            for pipe in pipes { for fd in pipe where fd >= 0 { close(fd) } }
            writer.queue(type: .agentSpawnFailed, id: id, payload: Array("agent: pipe: \(SystemError.current)".utf8))
            return
        }
        _ = fcntl(pipes[0][1], F_SETFL, O_NONBLOCK)
        let worker = AgentWorker(id: id, name: fields[0], plugin: fields[1], input: pipes[0][1], output: pipes[1][0],
                                 errors: pipes[2][0], reportsMemory: fields[4] == "1")
        worker.childEnds = [pipes[0][0], pipes[1][1], pipes[2][1]]
        workers[id] = worker
        switch plugins.resolve(path: fields[1], digest: Agent.digest(fromHex: fields[2]), size: size) {
        case .ready(let path):
            start(worker, pluginPath: path)
        case .fetching(let request, let isNew):
            waitingForPlugin[request, default: []].append((worker, fields[1]))
            if isNew { writer.queue(type: .agentPluginRequest, id: request, payload: Array(fields[2].utf8)) }
        case .failed(let reason):
            failSpawn(worker, reason)
        }
    }

    /// The plugin of `request` arrived (or cannot): start the workers that waited for it.
    private func pluginArrived(request: UInt64, problem: String?) {
        let waiting = waitingForPlugin.removeValue(forKey: request) ?? []
        switch plugins.finished(request: request, problem: problem) {
        case .success(let path):
            for entry in waiting where entry.worker.termination == nil { start(entry.worker, pluginPath: path) }
        case .failure(let failure):
            for entry in waiting { failSpawn(entry.worker, "plugin \(entry.pluginPath): \(failure.message)") }
        }
    }

    /// Starts `worker` from the plugin's fork server (started now if needed), or by itself when
    /// the plugin cannot be forked.
    private func start(_ worker: AgentWorker, pluginPath: String) {
        if servers[pluginPath] == nil {
            switch AgentForkServer.start(executable: executable, pluginPath: pluginPath) {
            case .success(let server): servers[pluginPath] = server
            case .failure(let error):
                failSpawn(worker, "\(executable) --fork-server: \(error)")
                return
            }
        }
        let server = servers[pluginPath]!
        switch server.state {
        case .starting:
            server.waiting.append(worker)
        case .ready:
            if !server.fork(worker, childEnds: worker.takeChildEnds()) {
                failSpawn(worker, "fork server for \(pluginPath): \(SystemError.current)")
            }
            drainAnswers(of: server)
        case .unusable:
            spawnDirectly(worker, pluginPath: pluginPath)
        case .cannotLoad(let reason):
            failSpawn(worker, Agent.naming(worker.plugin, for: pluginPath, in: reason))
        }
    }

    /// Starts `worker` as its own `plugin-worker` process (a plugin whose fork server cannot run).
    private func spawnDirectly(_ worker: AgentWorker, pluginPath: String) {
        let ends = worker.takeChildEnds()
        let spawned = ChildProcess.spawn(executable: executable,
                                         arguments: ["--plugin", pluginPath, "--name", worker.name, "--parent-pid", String(getpid())],
                                         descriptors: (ends[0], ends[1], ends[2]))
        for fd in ends { close(fd) }
        switch spawned {
        case .success(let pid):
            worker.pid = pid
            worker.parent = .agent(pidfd: csupport_pidfd_open(pid))
        case .failure(let error):
            failSpawn(worker, "\(executable): \(error)")
        }
    }

    private func failSpawn(_ worker: AgentWorker, _ reason: String) {
        for fd in worker.takeChildEnds() { close(fd) }
        worker.closeInput()
        for fd in [worker.output, worker.errors] where fd >= 0 { close(fd) }
        workers[worker.id] = nil
        writer.queue(type: .agentSpawnFailed, id: worker.id, payload: Array(reason.utf8))
    }

    /// Relays what the worker wrote to its standard output or error; its end too.
    private func relay(_ worker: AgentWorker, error: Bool) {
        let descriptor = error ? worker.errors : worker.output
        guard descriptor >= 0 else { return }  // (Closed by a handler earlier in this round.)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = retryingOnInterrupt { read(descriptor, &buffer, buffer.count) }
        worker.sawOutput = true
        reportSpawned(worker)
        if count > 0 {
            if !error && worker.reportsMemory { reportMemory(of: worker) }
            writer.queue(type: error ? .agentStderr : .agentOutput, id: worker.id, payload: Array(buffer[0..<count]))
            return
        }
        close(descriptor)
        if error {
            worker.errors = -1
            writer.queue(type: .agentStderrEnd, id: worker.id, payload: [])
        } else {
            worker.output = -1
            writer.queue(type: .agentOutputEnd, id: worker.id, payload: [])
            // (Not reaped before the master asks: until its agentWait it may still signal the
            // worker, and a pid reaped meanwhile could be someone else's by then.)
        }
        forgetIfFinished(worker)
    }

    /// Tells the master the worker's pid, once, with the first thing the worker wrote (its hello,
    /// usually) or its end: in the same write. Sent alone, the pid would leave as one small
    /// write and the hello as a second right after it, which over a TCP hop without
    /// TCP_NODELAY (srun's, slurmstepd's) waits for the first one's delayed acknowledgement.
    private func reportSpawned(_ worker: AgentWorker) {
        guard !worker.spawnReported, worker.pid > 0, !worker.abandoned else { return }
        worker.spawnReported = true
        writer.queue(type: .agentSpawned, id: worker.id, payload: Array(String(worker.pid).utf8))
    }

    /// `agentWait`: reaps the worker once it ended, and reports how.
    private func awaitEnd(of worker: AgentWorker) {
        guard !worker.awaited else { return }
        worker.awaited = true
        if worker.termination != nil {
            report(worker)
            return
        }
        switch worker.parent {
        case .forkServer(let server)?:
            // (Still being forked: the server's answer sends the request, see readServer.)
            if server.socket < 0 { ended(worker, how: "s", value: SIGKILL) } else if worker.pid > 0 { server.awaitEnd(of: worker.pid) }
        case .agent(let pidfd)?:
            if pidfd < 0 { reapSpawned(worker) }  // (No pidfd: wait now.)
        case nil:
            // Never started (waiting for its plugin or its fork server; the master gave up):
            // it never will be.
            for fd in worker.takeChildEnds() { close(fd) }
            worker.closeInput()
            for fd in [worker.output, worker.errors] where fd >= 0 { close(fd) }
            worker.output = -1
            worker.errors = -1
            ended(worker, how: "u", value: 0)
        }
    }

    /// A worker the agent spawned itself has ended (its pidfd is readable): reaps it.
    private func reapSpawned(_ worker: AgentWorker) {
        var status: Int32 = 0
        let rc = retryingOnInterrupt { waitpid(worker.pid, &status, 0) }
        if case .agent(let pidfd)? = worker.parent, pidfd >= 0 { close(pidfd) }
        worker.parent = .agent(pidfd: -1)
        var value: Int32 = 0
        switch rc < 0 ? 0 : csupport_decode_wait_status(status, &value) {
        case 1: ended(worker, how: "x", value: value)
        case 2: ended(worker, how: "s", value: value)
        default: ended(worker, how: "u", value: 0)
        }
    }

    private func ended(_ worker: AgentWorker, how: String, value: Int32) {
        guard worker.termination == nil else { return }
        worker.termination = (how, value)
        worker.forkedHandle = nil
        if worker.awaited { report(worker) }
    }

    private func report(_ worker: AgentWorker) {
        guard let termination = worker.termination else { return }
        writer.queue(type: .agentExit, id: worker.id, payload: AgentFields.encode([termination.how, String(termination.value)]))
        forgetIfFinished(worker)
    }

    private func forgetIfFinished(_ worker: AgentWorker) {
        if worker.isFinished {
            worker.closeInput()
            workers[worker.id] = nil
        }
    }

    // MARK: Fork servers

    /// Reads every answer the server has ready, so that it never blocks on a full socket while
    /// the agent sends it more requests (a batch of spawns handled in one go).
    private func drainAnswers(of server: AgentForkServer) {
        while server.socket >= 0 {
            var probe = pollfd(fd: server.socket, events: Int16(POLLIN), revents: 0)
            guard poll(&probe, 1, 0) == 1 else { return }
            readServer(server)
        }
    }

    /// Reads one answer of a fork server; its end fails what waited on it.
    private func readServer(_ server: AgentForkServer) {
        guard let fields = server.receive() else {
            serverEnded(server)
            return
        }
        switch (fields.first, fields.count) {
        case ("r", 1):
            server.state = .ready
            let waiting = server.waiting
            server.waiting = []
            for worker in waiting where worker.termination == nil && !server.fork(worker, childEnds: worker.takeChildEnds()) {
                failSpawn(worker, "fork server for \(server.pluginPath): \(SystemError.current)")
            }
        case ("x", 2) where fields[1].hasPrefix(server.pluginPath + ": "):
            // The plugin does not load on this host (a load error names the file): no worker of
            // it can start here, and each spawn fails saying so, naming the master's file
            // rather than the descriptor it was loaded through.
            server.state = .cannotLoad(fields[1])
            let waiting = server.waiting
            server.waiting = []
            for worker in waiting where worker.termination == nil {
                failSpawn(worker, Agent.naming(worker.plugin, for: server.pluginPath, in: fields[1]))
            }
        case ("x", 2):
            // It cannot fork this plugin's workers (it runs threads): each is spawned on its own.
            server.state = .unusable(fields[1])
            let waiting = server.waiting
            server.waiting = []
            for worker in waiting where worker.termination == nil { spawnDirectly(worker, pluginPath: server.pluginPath) }
        case ("f", 3):
            if let sequence = UInt64(fields[1]), let worker = server.forking.removeValue(forKey: sequence),
               let pid = pid_t(fields[2]), pid > 0 {
                worker.pid = pid
                // (Its server reaps it only when asked: the pid is still the worker's now.)
                worker.forkedHandle = ProcessHandle(pid: pid)
                if worker.abandoned {
                    // The master gave up on it while it was being forked: it goes at once
                    // (unless it ended already: its server may have died, and init reaped it).
                    if worker.forkedHandle?.isRunning ?? true { kill(-pid, SIGKILL) }
                } else if worker.sawOutput {
                    reportSpawned(worker)  // (It wrote before its pid came back.)
                }
                if worker.awaited { server.awaitEnd(of: pid) }
            }
        case ("e", 3):
            if let sequence = UInt64(fields[1]), let worker = server.forking.removeValue(forKey: sequence) {
                failSpawn(worker, fields[2])
            }
        case ("w", 4):
            if let pid = pid_t(fields[1]), pid > 0, let value = Int32(fields[3]),
               let worker = workers.values.first(where: { worker in
                   guard worker.pid == pid, worker.termination == nil, case .forkServer(let parent)? = worker.parent else { return false }
                   return parent === server
               }) {
                ended(worker, how: fields[2], value: value)
            }
        default:
            break
        }
    }

    /// A fork server ended: its workers died with it (a parent-death signal).
    private func serverEnded(_ server: AgentForkServer) {
        server.end()
        switch server.state {
        case .unusable, .cannotLoad: break  // (Kept: it says how to start this plugin's workers.)
        case .starting, .ready: servers[server.pluginPath] = nil
        }
        for worker in server.waiting + Array(server.forking.values) {
            failSpawn(worker, "the fork server for \(server.pluginPath) ended")
        }
        server.waiting = []
        server.forking = [:]
        for worker in workers.values {
            if case .forkServer(let parent)? = worker.parent, parent === server { ended(worker, how: "s", value: SIGKILL) }
        }
    }

    /// Kills every worker and ends the agent, saying why on standard error when `message` is given.
    private func shutDown(status: Int32, _ message: String?) -> Never {
        if let message { printError("plugin-worker: agent: \(message)") }
        // (Not those being reaped, whose pid may be free by now: their fork server, which sees
        // the end of its socket when the agent is gone, kills what it has not reaped.)
        for worker in workers.values { worker.signal(SIGKILL) }
        _exit(status)
    }

    /// `message` with every mention of `loaded`, the path a plugin was loaded through here
    /// (`/proc/PID/fd/N` of the copy verified), replaced by `plugin`, its path on the master.
    static func naming(_ plugin: String, for loaded: String, in message: String) -> String {
        guard !loaded.isEmpty else { return message }
        var result = ""
        var rest = Substring(message)
        while !rest.isEmpty {
            if rest.hasPrefix(loaded) {
                result += plugin
                rest = rest.dropFirst(loaded.count)
            } else {
                result.append(rest.removeFirst())
            }
        }
        return result
    }

    /// A SHA-256 from 64 hexadecimal digits (empty for anything else).
    static func digest(fromHex text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return [] }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return [] }
            bytes.append(byte)
        }
        return bytes
    }
}
