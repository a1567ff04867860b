// A worker transport with no processes: the scheduler's rules tested deterministically.
@testable import PluginHost
import PluginProtocol
import TestSupport

/// Starts ``InMemoryWorker``s instead of processes, as swift-nio tests channels against an
/// embedded event loop: the run is the real scheduler with real master-side plugin callbacks;
/// only the workers are scripted (by default, ``ChaosWorkerScript``, which answers as the chaos
/// plugin's workers do).
final class InMemoryTransport: WorkerTransport, @unchecked Sendable {
    typealias Script = @Sendable (InMemoryWorker, _ id: UInt64, _ request: String) -> [InMemoryWorker.Step]

    /// How a spawn goes.
    enum Start: Sendable {
        /// The worker starts and says hello.
        case hello
        /// The worker starts and says this hello instead (e.g. another plugin build).
        case customHello(Hello)
        /// The worker starts and dies before its hello (stderr lines, then the end).
        case dieBeforeHello(WorkerTermination, stderr: [String])
        /// The worker cannot be started at all.
        case fail(String)
    }

    private let library: PluginLibrary
    private let script: Script
    /// Decides how the n-th spawn (from 0) goes.
    private let start: @Sendable (_ index: Int, WorkerLaunch) -> Start
    private let lock = ConditionLock()
    private var spawned: [InMemoryWorker] = []
    private var spawnAttempts = 0
    private var nextPID: Int32 = 40_000
    private(set) var runStarts = 0
    private(set) var runFinishes = 0
    /// State shared by all workers of the run, as files are for processes (crash-once).
    private var marks = Set<String>()

    init(library: PluginLibrary = Chaos.library, script: @escaping Script = ChaosWorkerScript.respond,
         start: @escaping @Sendable (Int, WorkerLaunch) -> Start = { _, _ in .hello }) {
        self.library = library
        self.script = script
        self.start = start
    }

    /// Every worker started so far, in order.
    var workers: [InMemoryWorker] { lock.withLock { spawned } }

    /// How many spawns were asked for (failed ones included).
    var spawnCount: Int { lock.withLock { spawnAttempts } }

    /// Sets `mark`; returns true if it was not set before (crash-once's file).
    func setMark(_ mark: String) -> Bool { lock.withLock { marks.insert(mark).inserted } }

    /// The worker named `name`.
    func worker(named name: String) -> InMemoryWorker? { workers.first { $0.name == name } }

    // MARK: - WorkerTransport

    func checkBeforeRun() throws(HostError) {}  // scripted workers need no executable

    func runStarted() { lock.withLock { runStarts += 1 } }

    func runFinished() { lock.withLock { runFinishes += 1 } }

    func spawn(_ launch: WorkerLaunch) throws(WorkerSpawnError) -> any WorkerLink {
        let (index, pid) = lock.withLock {
            defer { spawnAttempts += 1; nextPID += 1 }
            return (spawnAttempts, nextPID)
        }
        let hello: Frame?
        var death: (WorkerTermination, [String])?
        switch start(index, launch) {
        case .fail(let message):
            throw WorkerSpawnError(message: message)
        case .hello:
            hello = Frame(type: .hello, payload: Hello(
                abiMajor: library.descriptor.abi_major, abiMinor: library.descriptor.abi_minor, pid: pid,
                pluginDigest: library.digest, pluginName: library.name, pluginVersion: library.version).encoded())
        case .customHello(let custom):
            hello = Frame(type: .hello, payload: custom.encoded())
        case .dieBeforeHello(let how, let lines):
            hello = nil
            death = (how, lines)
        }
        let worker = InMemoryWorker(pid: pid, launch: launch, hello: hello, script: script)
        worker.transport = self
        lock.withLock { spawned.append(worker) }
        if let (how, lines) = death {
            for line in lines { launch.stderrLine("[\(launch.name)] \(line)") }
            worker.kill(how, stderr: lines)
        }
        return worker
    }
}
