import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One unit of the worker budget, served by one thread for the whole run.
///
/// The thread spawns a worker when the scheduler has work for one, then blocks reading that
/// worker's responses (so a death is seen at once, as EOF, even while the worker is idle). After
/// the worker ends it kills and reaps it, reports how it ended, and waits for the next one.
/// Blocking reads on a thread per worker are the fastest master design measured on these machines.
struct WorkerSlot: Sendable {
    let index: Int
    let scheduler: Scheduler

    func run() {
        // With pinned slots, this thread and every worker, stderr pump and reaper it starts
        // stay on one core (see HostConfiguration.pinsSlotsToCores).
        if let core = scheduler.lock.withLock({ scheduler.claimCoreLocked(current: SystemInfo.currentCore) }) {
            SystemInfo.pinCurrentThread(to: core)
        }
        let lock = scheduler.lock
        while true {
            lock.lock()
            guard let worker = scheduler.nextWorkerLocked(slot: index) else {
                let finished = scheduler.slotThreadExitedLocked()
                lock.unlock()
                if let (report, handlers) = finished {
                    for handler in handlers { handler(report) }
                }
                return
            }
            lock.unlock()
            serve(worker)
        }
    }

    private func serve(_ worker: WorkerState) {
        let configuration = scheduler.configuration
        let process: WorkerProcess
        worker.spawnedAt = monotonicNanoseconds()
        worker.heard()
        let (executable, arguments) = command(for: worker)
        do {
            process = try WorkerProcess.spawn(executable: executable, arguments: arguments,
                                              cgroup: scheduler.cgroup?.makeWorkerGroup())
        } catch {
            let outbox = scheduler.lock.withLock {
                scheduler.spawnFailedLocked(worker, message: "\(hostPrefix(worker))\(executable): \(error)")
            }
            outbox.deliver()
            return
        }
        scheduler.lock.withLock {
            worker.attach(process)
            // Cancelled or shut down before it even existed: kill it now, it is handled as gone.
            if worker.exitIntent != nil { process.send(signal: SIGKILL) }
        }
        scheduler.watchdog.schedule(at: monotonicNanoseconds() + UInt64(configuration.handshakeTimeout * 1e9),
                                    .handshake(worker: worker))
        StderrPump.start(worker: worker, descriptor: process.errors, tailLines: configuration.stderrTailLines,
                         forward: scheduler.lock.withLock { scheduler.stderrHandler })
        var reader = FrameReader(descriptor: Descriptor(process.output.rawValue))
        if worker.heartbeatNanoseconds != nil { reader.onBytes = { _ in worker.heard() } }

        // Handshake.
        if let problem = handshake(worker, reader: &reader) {
            let timedOut = scheduler.lock.withLock {
                worker.phase = .exiting
                return worker.handshakeTimedOut
            }
            process.send(signal: SIGKILL)
            _ = process.waitForExit()
            let tail = worker.stderrTail(waitingUntil: monotonicNanoseconds() + 200_000_000)
            worker.closePipes()
            var message = hostPrefix(worker)
                + (timedOut ? "\(worker.name) sent no handshake within \(configuration.handshakeTimeout) s" : problem)
            if !timedOut, let last = tail.last, !problem.contains(last) {
                message += " (stderr: \(tail.joined(separator: " | ")))"
            }
            let outbox = scheduler.lock.withLock {
                // Killed on purpose while starting (cancelled, run interrupted): not a spawn failure.
                worker.exitIntent != nil && !worker.handshakeTimedOut
                    ? scheduler.workerGoneLocked(worker, termination: .signalled(SIGKILL), stderrTail: [])
                    : scheduler.spawnFailedLocked(worker, message: message)
            }
            outbox.deliver()
            return
        }
        scheduler.lock.withLock { scheduler.workerReadyLocked(worker) }.deliver()

        // Serve until the worker ends.
        readLoop: while true {
            let frame: ReceivedFrame?
            do {
                frame = try reader.nextReceived()
            } catch .malformed(let error) {
                scheduler.lock.withLock { scheduler.marshalErrorLocked(worker, message: error.description) }.deliver()
                break readLoop
            } catch {
                break readLoop  // I/O error: the worker is gone.
            }
            guard let frame else { break readLoop }
            switch frame.type {
            case .response:
                let (outbox, retiring) = scheduler.lock.withLock {
                    (scheduler.responseLocked(worker, frame: frame), worker.exitIntent != nil)
                }
                outbox.deliver()
                if retiring { break readLoop }
            case .feedback:
                let retiring = scheduler.lock.withLock {
                    scheduler.feedbackLocked(worker, frame: frame)
                    return worker.exitIntent != nil
                }
                if retiring { break readLoop }
            case .error:
                let message = String(decoding: frame.payload, as: UTF8.self)
                scheduler.lock.withLock { scheduler.marshalErrorLocked(worker, message: message) }.deliver()
                break readLoop
            case .heartbeat:
                continue
            case .blobRequest:
                worker.sendBlob(scheduler.blobs.content(digest: Array(frame.payload)))
            case .hello, .request, .broadcast, .blobData, .blobEnd:
                scheduler.lock.withLock {
                    scheduler.marshalErrorLocked(worker, message: "unexpected \(frame.type) frame from the worker")
                }.deliver()
                break readLoop
            }
        }

        // Reap. From here on nothing is sent to the worker and nobody else signals it.
        let (dying, released) = scheduler.lock.withLock {
            worker.phase = .exiting
            return (worker.exitIntent == nil, scheduler.releaseSlotIfRetiredLocked(worker))
        }
        process.send(signal: SIGKILL)
        if let released {
            // The worker has ended for the scheduler; a reaper waits for its process while this
            // slot goes on to its next worker. The run does not finish before the reaper does.
            let scheduler = self.scheduler
            startThread {
                _ = process.waitForExit()
                worker.closePipes()
                let finished = scheduler.lock.withLock { scheduler.releasedWorkerReapedLocked() }
                if let (report, handlers) = finished {
                    for handler in handlers { handler(report) }
                }
            }
            released.deliver()
            return
        }
        let termination = process.waitForExit()
        let tail = dying ? worker.stderrTail(waitingUntil: monotonicNanoseconds() + 200_000_000) : []
        worker.closePipes()
        scheduler.lock.withLock {
            scheduler.workerGoneLocked(worker, termination: termination, stderrTail: tail)
        }.deliver()
    }

    /// The program and arguments that start `worker`: `plugin-worker` here, or the launcher.
    private func command(for worker: WorkerState) -> (String, [String]) {
        let configuration = scheduler.configuration
        let pluginPath = worker.kind.plugin.library.path
        var options: [String] = []
        if let interval = configuration.heartbeat(launched: worker.host.isRemote) {
            options += ["--heartbeat", String(interval), "--heartbeat-misses", String(configuration.heartbeatMisses)]
        }
        if let launcher = worker.host.launcher {
            let argv = launcher.command(host: worker.host.name, pluginPath: pluginPath, workerName: worker.name,
                                        workerOptions: options)
            return (argv[0], Array(argv.dropFirst()))
        }
        return (configuration.workerExecutable,
                ["--plugin", pluginPath, "--name", worker.name, "--parent-pid", String(getpid())] + options)
    }

    /// "host NAME: " for a worker started elsewhere, so a failure names the machine.
    private func hostPrefix(_ worker: WorkerState) -> String {
        worker.host.isRemote ? "\(worker.host.label): " : ""
    }

    /// Reads and checks the worker's hello. Returns a problem description, or nil if all is well.
    private func handshake(_ worker: WorkerState, reader: inout FrameReader) -> String? {
        let frame: Frame?
        do {
            frame = try reader.next()
        } catch {
            return "bad handshake from \(worker.name): \(error)"
        }
        guard let frame else { return "\(worker.name) exited before its handshake" }
        switch frame.type {
        case .hello:
            break
        case .error:
            return String(decoding: frame.payload, as: UTF8.self)
        default:
            return "\(worker.name) sent \(frame.type) instead of a handshake"
        }
        let hello: Hello
        do { hello = try Hello(decoding: frame.payload) } catch { return "\(worker.name): \(error)" }
        let library = worker.kind.plugin.library
        if hello.protocolVersion != Hello.currentProtocolVersion {
            return "\(worker.name): worker speaks protocol \(hello.protocolVersion), host speaks \(Hello.currentProtocolVersion)"
        }
        if hello.pluginName != library.name || hello.abiMajor != library.descriptor.abi_major {
            return "\(worker.name): worker loaded plugin '\(hello.pluginName)' ABI \(hello.abiMajor).\(hello.abiMinor), "
                + "host expects '\(library.name)' ABI \(library.abiVersion)"
        }
        if hello.pluginDigest != library.digest {
            return "\(worker.name): the worker's copy of plugin '\(library.name)' differs from the master's "
                + "\(library.path) (digest \(hex(hello.pluginDigest)) there, \(hex(library.digest)) here)"
        }
        return nil  // (worker.pid stays the spawned child's: hello.pid is only informative.)
    }
}

/// A digest as 16 hexadecimal digits.
private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
