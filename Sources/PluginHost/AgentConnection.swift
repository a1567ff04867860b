import PluginProtocol
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The master's one connection to a host's worker agent (`plugin-worker --agent`, started by the
/// launcher: one ssh session or Slurm step per host for the whole run), carrying every worker of
/// that host as an ``AgentWorkerLink``.
///
/// A reader thread takes the agent's frames and hands each to the link it names; frames to the
/// agent go through an ``AgentFrameQueue``; a heartbeat thread keeps the link alive both ways. When the connection ends (the agent or its host died, the link broke, the launcher
/// failed), every link learns it at once and its worker is reported lost, naming the host.
///
/// The frames travel over the launcher's standard input and output, or, for a launcher that
/// connects back (``WorkerLauncher/connectsBack``: srun), over a TCP connection the agent makes
/// to the master (``AgentRendezvous``): srun's relay holds each small write of a conversation
/// for a delayed acknowledgement (~40 ms). The launcher's input and output then only carry
/// their end: the agent exits when its input ends, and the connection is lost when the
/// launcher's output ends.
final class AgentConnection: @unchecked Sendable {
    /// The host's name, as messages give it (`host NAME`).
    let label: String
    private let process: WorkerProcess
    /// The agent's connection back to the master, when it made one (nil: the launcher's pipes).
    private let socket: Int32?
    /// Where the agent's frames are read from: `socket`, or the launcher's output.
    private let incoming: Int32
    private let heartbeat: Double?
    private let heartbeatMisses: Int
    /// When the agent was last heard from (monotonic nanoseconds; the reader writes it).
    private let lastHeard = Atomic<UInt64>(0)
    /// When the workers were last told of news from the agent (the reader's alone).
    private let lastActivityBroadcast = Atomic<UInt64>(0)

    /// What goes to the agent (its writer owns the launcher's standard input).
    private let outgoing: AgentFrameQueue

    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var links: [UInt64: AgentWorkerLink] = [:]
    private var nextNumber: UInt64 = 1
    private var ready = false
    private var lostReason: String?
    private var readerDone = false
    /// Set before the launcher is reaped: from then on its pid may be someone else's.
    private var reaped = false
    private var tail = StderrTail()
    private var stderrDone = false
    /// Whether the launcher's output reached its end (with a socket, its watcher's to say).
    private var launcherOutputDone: Bool
    /// Called with news from the agent, for the heartbeat bookkeeping of every worker.
    private var activity: [UInt64: @Sendable () -> Void] = [:]
    /// The plugin files the agent may ask for, by SHA-256 (hex).
    private var pluginFiles: [String: String] = [:]

    private init(label: String, process: WorkerProcess, socket: Int32?, heartbeat: Double?, heartbeatMisses: Int) {
        self.label = label
        self.process = process
        self.socket = socket
        incoming = socket ?? process.output.rawValue
        launcherOutputDone = socket == nil
        self.heartbeat = heartbeat
        self.heartbeatMisses = heartbeatMisses
        lastHeard.store(monotonicNanoseconds(), ordering: .relaxed)
        outgoing = AgentFrameQueue(descriptor: socket ?? process.input.rawValue, sharesSocket: socket != nil)
        outgoing.start()
    }

    /// Starts the agent of `machine` through its launcher and waits for its hello (at most
    /// `timeout` seconds). Its stderr lines go to `stderrLine`, prefixed with the host. The
    /// agent's workers take `addressSpaceLimit` (bytes; nil: none), see ``WorkerAddressSpaceLimit``.
    static func start(machine: WorkerMachine, launcher: WorkerLauncher, heartbeat: Double?, heartbeatMisses: Int,
                      addressSpaceLimit: UInt64? = nil, timeout: Double,
                      stderrLine: @escaping @Sendable (String) -> Void) throws(WorkerSpawnError) -> AgentConnection {
        var options = ["--name", "agent@\(machine.name.isEmpty ? "launcher" : machine.name)"]
        if let heartbeat { options += ["--heartbeat", String(heartbeat), "--heartbeat-misses", String(heartbeatMisses)] }
        let rendezvous: AgentRendezvous?
        do throws(WorkerSpawnError) {
            rendezvous = launcher.connectsBack ? try AgentRendezvous() : nil
        } catch {
            throw WorkerSpawnError(message: "\(machine.messagePrefix)\(error.message)")
        }
        if let rendezvous { options += ["--connect-back", String(rendezvous.port)] }
        if let addressSpaceLimit { options += [WorkerAddressSpaceLimit.agentOption, String(addressSpaceLimit)] }
        let argv = launcher.agentCommand(host: machine.name, agentOptions: options)
        let process: WorkerProcess
        do {
            process = try WorkerProcess.spawn(executable: argv[0], arguments: Array(argv.dropFirst()),
                                              environment: rendezvous.map { [$0.environmentEntry] } ?? [])
        } catch {
            throw WorkerSpawnError(message: "\(machine.messagePrefix)\(argv[0]): \(error)")
        }
        let deadline = monotonicNanoseconds() &+ nanoseconds(fromSeconds: timeout)
        // (Its stderr waits in the pipe meanwhile: the pump starts with the connection.)
        var socket: Int32?
        if let rendezvous, case .connected(let descriptor) = rendezvous.await(until: deadline, relay: process.output.rawValue) {
            socket = descriptor
        }
        rendezvous?.close()
        let connection = AgentConnection(label: machine.label, process: process, socket: socket, heartbeat: heartbeat,
                                         heartbeatMisses: heartbeatMisses)
        let prefix = "[agent \(machine.name.isEmpty ? "launcher" : machine.name)] "
        startThread { connection.pumpStderr { stderrLine(prefix + $0) } }
        startThread { connection.readLoop() }
        if socket != nil { startThread { connection.watchLauncherOutput() } }
        let problem: String? = connection.lock.withLock {
            while !connection.ready && connection.lostReason == nil && monotonicNanoseconds() < deadline {
                connection.lock.wait(untilNanoseconds: deadline)
            }
            if connection.ready { return nil }
            return connection.lostReason ?? "its worker agent sent no hello within \(timeout) s"
        }
        if let problem {
            connection.stop()
            let stderr = connection.lock.withLock { connection.tail.lines }
            let said = stderr.isEmpty || problem.contains(stderr.last!) ? "" : " (stderr: \(stderr.joined(separator: " | ")))"
            throw WorkerSpawnError(message: "\(machine.messagePrefix)\(problem)\(said)")
        }
        if let heartbeat { startThread { connection.beat(every: heartbeat) } }
        return connection
    }

    /// True until the connection ended.
    var isUsable: Bool { lock.withLock { lostReason == nil } }

    /// Starts a worker for `launch` whose plugin file has SHA-256 `digest` (hex) and `size`;
    /// `reportsMemory` asks for its resident memory with its output. Waits for the agent's
    /// answer at most `timeout` seconds.
    func spawn(_ launch: WorkerLaunch, digest: String, size: UInt64, reportsMemory: Bool,
               timeout: Double) throws(WorkerSpawnError) -> AgentWorkerLink {
        let link: AgentWorkerLink? = lock.withLock {
            guard lostReason == nil else { return nil }
            let number = nextNumber
            nextNumber += 1
            let link = AgentWorkerLink(number: number, connection: self, launch: launch)
            links[number] = link
            if let onActivity = launch.onActivity { activity[number] = onActivity }
            pluginFiles[digest] = launch.pluginPath
            return link
        }
        guard let link else { throw WorkerSpawnError(message: "\(label): \(lock.withLock { lostReason ?? "" })") }
        send(.agentSpawn, id: link.number,
             payload: AgentFields.encode([launch.name, launch.pluginPath, digest, String(size), reportsMemory ? "1" : "0"]))
        switch link.awaitSpawn(until: monotonicNanoseconds() &+ nanoseconds(fromSeconds: timeout)) {
        case .success:
            return link
        case .failure(let error):
            // Given up (too slow, or refused): the agent drops it, or ends it if it started.
            send(.agentWait, id: link.number, payload: [])
            forget(link)
            throw WorkerSpawnError(message: "\(label): \(error.message)")
        }
    }

    /// Sends one control frame to the agent, in order with other threads' frames; never blocks
    /// (the scheduler sends signals under its lock). A failed write is left to the reader, which
    /// sees the agent's end.
    func send(_ type: FrameType, id: UInt64, payload: [UInt8]) {
        outgoing.enqueue(type, id: id, payload: payload)
    }

    /// Sends bytes for worker `number`'s standard input, in pieces the agent accepts; waits
    /// while the link is backed up.
    func sendInput<Bytes: Collection>(_ number: UInt64, _ bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let end = min(bytes.endIndex, offset + AgentConnection.largestPiece)
            outgoing.enqueue(.agentInput, id: number, payload: bytes[offset..<end], waitingForRoom: true)
            offset = end
        }
    }

    /// The most bytes of a worker's input in one frame (the agent accepts up to 1 MiB).
    static let largestPiece = 1 << 20

    /// Drops a link the master is done with.
    func forget(_ link: AgentWorkerLink) {
        lock.withLock {
            links[link.number] = nil
            activity[link.number] = nil
        }
    }

    /// Ends the connection: the agent sees end of file, kills its workers and exits; its
    /// launcher is killed if the connection has not ended within a second. Waits at most two
    /// seconds more for the reader (a launcher's descendant may hold its pipe open: the reader
    /// is then left blocked, its descriptor never closed, so no number is reused under it). A
    /// socket is closed only once both its reader and its writer are done with it.
    func stop() {
        markLost("the run ended")
        outgoing.close()
        if socket != nil { process.closeInput() }  // (The agent's input ends: it exits.)
        let deadline = monotonicNanoseconds() &+ 1_000_000_000
        let giveUp = deadline &+ 2_000_000_000
        var killed = false
        let ended: Bool = lock.withLock {
            while (!readerDone || !stderrDone || !launcherOutputDone) && monotonicNanoseconds() < giveUp {
                if !killed && monotonicNanoseconds() >= deadline {
                    process.send(signal: SIGKILL)  // (Under the lock: not reaped yet.)
                    killed = true
                }
                lock.wait(untilNanoseconds: killed ? giveUp : deadline)
            }
            return readerDone
        }
        if !killed { killLauncher() }  // (A launcher that outlives its agent.)
        let (watcherFinished, readerFinished) = lock.withLock {
            reaped = true
            return (launcherOutputDone, readerDone)
        }
        _ = process.waitForExit()
        if let socket {
            // The writer may still be in a write (a stalled agent, a full window) or before its
            // shutdown for writing: the socket, still open, is shut down both ways, which wakes
            // the writer and the reader, and closed only once neither can touch it again (never
            // a write or shutdown of a number reused meanwhile).
            shutdown(socket, Int32(SHUT_RDWR))
            let writerFinished = outgoing.waitUntilFinished(untilNanoseconds: monotonicNanoseconds() &+ 1_000_000_000)
            let readerStopped = readerFinished || lock.withLock {
                let deadline = monotonicNanoseconds() &+ 1_000_000_000
                while !readerDone && monotonicNanoseconds() < deadline { lock.wait(untilNanoseconds: deadline) }
                return readerDone
            }
            if readerStopped && writerFinished { Glibc.close(socket) }
            if watcherFinished { process.closeOutput() }
        } else if ended {
            process.closeOutput()
        }
    }

    /// Kills the launcher's process group, unless it was reaped.
    private func killLauncher() {
        lock.withLock {
            if !reaped { process.send(signal: SIGKILL) }
        }
    }

    /// Records why the connection ended (the first reason stays) and tells every link, so no
    /// slot waits on a worker of this host any longer.
    private func markLost(_ reason: String) {
        let lost: [AgentWorkerLink] = lock.withLock {
            if lostReason == nil { lostReason = reason }
            lock.broadcast()
            return Array(links.values)
        }
        let message = lock.withLock { lostReason! }
        for link in lost { link.lost(message) }
    }

    // MARK: Threads

    private func readLoop() {
        var reader = FrameReader(descriptor: Descriptor(incoming), maximumPayload: 1 << 21)
        var reason: String
        while true {
            let frame: ReceivedFrame?
            do {
                frame = try reader.nextReceived()
            } catch .malformed(let error) {
                reason = "its worker agent sent bytes that are not a frame (\(error))"
                break
            } catch {
                reason = "the connection to its worker agent broke (\(error))"
                break
            }
            guard let frame else {
                reason = "its worker agent ended"
                break
            }
            noteActivity()
            handle(frame)
        }
        // The agent is gone: its launcher may live on (a stuck ssh); it goes too.
        killLauncher()
        let stderr: [String] = lock.withLock {
            let deadline = monotonicNanoseconds() &+ 200_000_000
            while !stderrDone && monotonicNanoseconds() < deadline { lock.wait(untilNanoseconds: deadline) }
            return tail.lines
        }
        if !stderr.isEmpty { reason += "; last stderr: " + stderr.joined(separator: " | ") }
        markLost(reason)
        lock.withLock {
            readerDone = true
            lock.broadcast()
        }
    }

    private func handle(_ frame: ReceivedFrame) {
        if frame.type == .agentHello {
            let fields = AgentFields.decode(frame.payload)
            lock.withLock {
                if fields.count == 4, fields[0] == String(AgentFields.agentVersion), fields[1] == String(Hello.currentProtocolVersion) {
                    ready = true
                } else {
                    lostReason = "its worker agent speaks another protocol (agent \(fields.first ?? "?"), "
                        + "worker \(fields.count > 1 ? fields[1] : "?"); this host: agent \(AgentFields.agentVersion), "
                        + "worker \(Hello.currentProtocolVersion)): install the same plugin-worker there"
                }
                lock.broadcast()
            }
            return
        }
        if frame.type == .heartbeat { return }
        if frame.type == .agentPluginRequest {
            let digest = String(decoding: frame.payload, as: UTF8.self)
            let path = lock.withLock { pluginFiles[digest] }
            let request = frame.id
            startThread { self.sendPlugin(path, request: request) }
            return
        }
        guard let link = lock.withLock({ links[frame.id] }) else { return }  // (A worker already forgotten.)
        switch frame.type {
        case .agentSpawned: link.spawned(pid: pid_t(String(decoding: frame.payload, as: UTF8.self)) ?? 0)
        case .agentSpawnFailed: link.spawnFailed(String(decoding: frame.payload, as: UTF8.self))
        case .agentOutput: link.output(frame.payload)
        case .agentOutputEnd: link.outputEnd()
        case .agentStderr: link.stderr(frame.payload)
        case .agentStderrEnd: link.stderrEnd()
        case .agentMemory: link.memory(Int64(String(decoding: frame.payload, as: UTF8.self)) ?? -1)
        case .agentExit:
            let fields = AgentFields.decode(frame.payload)
            link.exited(fields.count == 2 ? WorkerTermination(report: fields[0], value: Int32(fields[1]) ?? 0) : .unknown)
        default:
            break
        }
    }

    /// News from the agent counts as news from each of its workers (their heartbeat deadlines),
    /// told at most every 10 ms.
    private func noteActivity() {
        let now = monotonicNanoseconds()
        lastHeard.store(now, ordering: .relaxed)
        // (No lock on the way of every frame: only the broadcast, at most every 10 ms, takes it.)
        guard now &- lastActivityBroadcast.load(ordering: .relaxed) >= 10_000_000 else { return }
        lastActivityBroadcast.store(now, ordering: .relaxed)
        let callbacks: [@Sendable () -> Void] = lock.withLock { Array(activity.values) }
        for callback in callbacks { callback() }
    }

    /// Sends the plugin file at `path` for the agent's request `request` (on its own thread:
    /// the reader must never wait on a write).
    private func sendPlugin(_ path: String?, request: UInt64) {
        guard let path else {
            send(.blobEnd, id: request, payload: Array("the master has no plugin with that digest".utf8))
            return
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            send(.blobEnd, id: request, payload: Array("cannot open \(path): \(SystemError.current)".utf8))
            return
        }
        defer { Glibc.close(descriptor) }
        let sent = FileChunks.read(descriptor) { chunk in
            send(.blobData, id: request, payload: Array(chunk))
            return isUsable
        }
        send(.blobEnd, id: request, payload: sent == nil ? Array("cannot read \(path)".utf8) : [])
    }

    /// With a socket: reads the launcher's output (nothing is expected there) to its end, which
    /// means the launcher ended (srun killed, its step cancelled): the socket is shut down, so
    /// the reader sees the connection end even if the agent lives on (and the agent, its end).
    private func watchLauncherOutput() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let descriptor = process.output
        while ((try? buffer.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }) ?? 0) > 0 {}
        lock.withLock {
            if !readerDone, let socket { shutdown(socket, Int32(SHUT_RDWR)) }
            launcherOutputDone = true
            lock.broadcast()
        }
    }

    private func pumpStderr(_ forward: (String) -> Void) {
        var lines = StderrLineSplitter()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let descriptor = process.errors
        func emit(_ bytes: ArraySlice<UInt8>) {
            let line = String(decoding: bytes, as: UTF8.self)
            lock.withLock { tail.append(line, limit: 5) }
            forward(line)
        }
        while true {
            let count = (try? buffer.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }) ?? 0
            if count <= 0 { break }
            lines.feed(buffer[0..<count], emit: emit)
        }
        lines.finish(emit: emit)
        try? descriptor.close()
        lock.withLock {
            stderrDone = true
            lock.broadcast()
        }
    }

    /// Sends a heartbeat every `interval` seconds while the connection lives, unless a write is
    /// under way (which says as much).
    private func beat(every interval: Double) {
        let step = nanoseconds(fromSeconds: interval)
        while true {
            let over: Bool = lock.withLock {
                let deadline = monotonicNanoseconds() &+ step
                while lostReason == nil && monotonicNanoseconds() < deadline { lock.wait(untilNanoseconds: deadline) }
                return lostReason != nil
            }
            if over { return }
            let silence = monotonicNanoseconds() &- lastHeard.load(ordering: .relaxed)
            if silence > step &* UInt64(max(1, heartbeatMisses)) {
                // A stopped agent or a cut link gives no end of file: the connection is given
                // up, every worker of the host lost with it, and its launcher killed.
                markLost("no word from its worker agent for \(Double(silence / 1_000_000) / 1000) s (host or link down)")
                outgoing.close()
                killLauncher()
                return
            }
            outgoing.enqueueHeartbeat()
        }
    }
}
