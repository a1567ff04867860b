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

    /// One worker's whole life on this slot: start, handshake, frames until it ends, reaping.
    private func serve(_ worker: WorkerState) {
        guard let (link, launch) = start(worker), greet(worker, over: link) else { return }
        scheduler.transport.workerGreeted(launch)
        serveFrames(of: worker, over: link)
        reap(worker, link)
    }

    /// Starts `worker` through the transport and schedules its handshake deadline. Returns its
    /// link and launch, or nil when it could not be started (reported to the scheduler).
    private func start(_ worker: WorkerState) -> (any WorkerLink, WorkerLaunch)? {
        let configuration = scheduler.configuration
        worker.heard()
        let stderrLine: @Sendable (String) -> Void = scheduler.lock.withLock {
            worker.spawnedAt = monotonicNanoseconds()
            return scheduler.stderrHandler
        }
        var onActivity: (@Sendable () -> Void)?
        // Weak: the link keeps this closure as long as it lives, and the worker keeps the link.
        if worker.heartbeatNanoseconds != nil { onActivity = { [weak worker] in worker?.heard() } }
        let launch = WorkerLaunch(name: worker.name, slot: index, pluginPath: worker.kind.plugin.library.path,
                                  machine: worker.machine,
                                  heartbeatInterval: configuration.heartbeat(launched: worker.machine.isRemote),
                                  heartbeatMisses: configuration.heartbeatMisses, stderrLine: stderrLine,
                                  stderrTailLines: configuration.stderrTailLines, onActivity: onActivity)
        let link: any WorkerLink
        do throws(WorkerSpawnError) {
            link = try scheduler.transport.spawn(launch)
        } catch {
            scheduler.lock.withLock { scheduler.spawnFailedLocked(worker, message: error.message) }.deliver()
            return nil
        }
        scheduler.lock.withLock {
            worker.attach(link)
            // Cancelled or shut down before it even existed: kill it now, it is handled as gone.
            if worker.exitIntent != nil { link.signal(SIGKILL) }
        }
        scheduler.watchdog.schedule(at: monotonicNanoseconds() + UInt64(configuration.handshakeTimeout * 1e9),
                                    .handshake(worker: worker))
        return (link, launch)
    }

    /// Reads the worker's hello. Returns true when it was accepted (the worker is ready); else
    /// the worker is killed, reaped and reported, and this returns false.
    private func greet(_ worker: WorkerState, over link: any WorkerLink) -> Bool {
        guard let problem = handshake(worker, over: link) else {
            scheduler.lock.withLock { scheduler.workerReadyLocked(worker) }.deliver()
            return true
        }
        let timedOut = scheduler.lock.withLock {
            worker.phase = .exiting
            return worker.handshakeTimedOut
        }
        link.signal(SIGKILL)
        _ = link.waitForExit()
        let tail = link.stderrTail(waitingUntil: monotonicNanoseconds() + 200_000_000)
        link.close()
        let configuration = scheduler.configuration
        var message = worker.machine.messagePrefix
            + (timedOut ? "\(worker.name) sent no handshake within \(configuration.handshakeTimeout) s" : problem)
        if !timedOut, let last = tail.last, !problem.contains(last) {
            message += " (stderr: \(tail.joined(separator: " | ")))"
        }
        scheduler.lock.withLock {
            // Killed on purpose while starting (cancelled, run interrupted): not a spawn failure.
            worker.exitIntent != nil && !worker.handshakeTimedOut
                ? scheduler.workerGoneLocked(worker, termination: .signalled(SIGKILL), stderrTail: [])
                : scheduler.spawnFailedLocked(worker, message: message)
        }.deliver()
        return false
    }

    /// Hands each frame from the worker to the scheduler until the worker's stream ends, it sends
    /// something wrong, or the scheduler is killing it.
    private func serveFrames(of worker: WorkerState, over link: any WorkerLink) {
        let drainsStderr = scheduler.configuration.drainsWorkerStderrBeforeAnswers
        while true {
            let frame: ReceivedFrame?
            do {
                frame = try link.receive()
            } catch .malformed(let error) {
                scheduler.lock.withLock { scheduler.marshalErrorLocked(worker, message: error.description) }.deliver()
                return
            } catch {
                return  // I/O error: the worker is gone.
            }
            guard let frame else { return }
            if drainsStderr && (frame.type == .response || frame.type == .taskFailure) {
                link.forwardWrittenStderr(waitingUntil: monotonicNanoseconds() + WorkerSlot.stderrDrainNanoseconds)
            }
            switch frame.type {
            case .response:
                let (outbox, retiring) = scheduler.lock.withLock {
                    (scheduler.responseLocked(worker, frame: frame), worker.isBeingKilled)
                }
                outbox.deliver()
                if retiring { return }
            case .taskFailure:
                let (outbox, retiring) = scheduler.lock.withLock {
                    (scheduler.taskFailureLocked(worker, frame: frame), worker.isBeingKilled)
                }
                outbox.deliver()
                if retiring { return }
            case .feedback:
                let retiring = scheduler.lock.withLock {
                    scheduler.feedbackLocked(worker, frame: frame)
                    return worker.isBeingKilled
                }
                if retiring { return }
            case .error:
                let message = String(decoding: frame.payload, as: UTF8.self)
                scheduler.lock.withLock { scheduler.marshalErrorLocked(worker, message: message) }.deliver()
                return
            case .heartbeat:
                continue
            case .blobRequest:
                link.sendBlob(scheduler.blobs.content(digest: Array(frame.payload)))
            default:  // (hello, request, broadcast, blob data, and the agent connection's own types)
                scheduler.lock.withLock {
                    scheduler.marshalErrorLocked(worker, message: "unexpected \(frame.type) frame from the worker")
                }.deliver()
                return
            }
        }
    }

    /// Kills and reaps the worker and reports how it ended. From here on nothing is sent to it
    /// and nobody else signals it.
    private func reap(_ worker: WorkerState, _ link: any WorkerLink) {
        let (dying, released) = scheduler.lock.withLock {
            worker.phase = .exiting
            return (worker.exitIntent == nil, scheduler.releaseSlotIfRetiredLocked(worker))
        }
        link.signal(SIGKILL)
        if let released {
            // The worker has ended for the scheduler; a reaper waits for its process while this
            // slot goes on to its next worker. The run does not finish before the reaper does.
            let scheduler = self.scheduler
            scheduler.reapers.submit {
                _ = link.waitForExit()
                _ = link.stderrTail(waitingUntil: monotonicNanoseconds() + WorkerSlot.stderrDrainNanoseconds)
                link.close()
                let finished = scheduler.lock.withLock { scheduler.releasedWorkerReapedLocked() }
                if let (report, handlers) = finished {
                    for handler in handlers { handler(report) }
                }
            }
            released.deliver()
            return
        }
        let termination = link.waitForExit()
        // Every line the worker wrote is forwarded (terminal, --results) before it counts as gone,
        // so the run never ends with a worker's last lines unread.
        let tail = link.stderrTail(waitingUntil: monotonicNanoseconds() + WorkerSlot.stderrDrainNanoseconds)
        link.close()
        scheduler.lock.withLock {
            scheduler.workerGoneLocked(worker, termination: termination, stderrTail: dying ? tail : [])
        }.deliver()
    }

    /// How long a reaped worker's stderr may take to reach its end (a process it started could
    /// hold the pipe open).
    static let stderrDrainNanoseconds: UInt64 = 1_000_000_000

    /// Reads and checks the worker's hello. Returns a problem description, or nil if all is well.
    private func handshake(_ worker: WorkerState, over link: any WorkerLink) -> String? {
        let frame: ReceivedFrame?
        do {
            frame = try link.receive()
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
        do { hello = try Hello(decoding: Array(frame.payload)) } catch { return "\(worker.name): \(error)" }
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
private func hex(_ value: UInt64) -> String { PluginDigest.hex(value) }
