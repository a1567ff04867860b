// Workers of launched hosts through one worker agent per host (`plugin-worker --agent`), tested
// on this machine with a fake ssh that records each launch: one launch per host for the whole
// run, the engine's rules through the agent's connection, and every way the agent can fail.
// The real ssh run is Tests/Integration/remote-hosts.sh, the real Slurm one slurm.sh.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker agents: one connection per host")
struct AgentTests {
    /// A fake ssh, `fake-ssh HOST COMMAND...`: appends `HOST PID` to `launches` (the pid the
    /// command will have once it replaced the shell), then runs COMMAND here, optionally behind
    /// `prefix` (words put before it, e.g. to hide a directory from it).
    static func fakeSSH(in directory: TemporaryDirectory, prefix: String = "") -> (ssh: String, launches: String) {
        let launches = directory.path + "/launches"
        let ssh = directory.write("fake-ssh", """
            #!/bin/sh
            host="$1"; shift
            echo "$host $$" >> '\(launches)'
            exec \(prefix) "$@"
            """)
        return (ssh, launches)
    }

    /// The recorded launches: (host, agent pid), in order.
    static func launches(_ path: String) -> [(host: String, pid: Int32)] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let pid = Int32(fields[1]) else { return nil }
            return (String(fields[0]), pid)
        }
    }

    static func configuration(hosts: [WorkerHost], launcher: String, heartbeat: Double = 0.3, retries: Int = 1,
                              maxWorkerRSSBytes: Int? = nil, timeout: Double? = nil) throws -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: hosts.reduce(0) { $0 + $1.slots }, timeout: timeout, retries: retries,
                                                   maxWorkerRSSBytes: maxWorkerRSSBytes)
        configuration.hosts = hosts
        configuration.launcher = try WorkerLauncher(template: launcher)
        configuration.heartbeatInterval = heartbeat
        configuration.hostBackOff = 0.05
        return configuration
    }

    @Test("one-shot workers on two hosts: the launcher runs once per host for the whole run")
    func oneLaunchPerHost() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 2), WorkerHost(name: "beta", slots: 1)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker)")
        let test = try TestRun(chaos: ["--repeat", "40", "echo:x"], policy: .oneShot, configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 40)
        #expect(test.log.workersStarted.count == 40, "a fresh worker for every task")
        let launched = Self.launches(launches)
        #expect(launched.map(\.host).sorted() == ["alpha", "beta"], "one agent per host: \(launched)")
        for agent in launched {
            #expect(!ProcessProbe.isAlive(pid: agent.pid, name: "agent@\(agent.host)"), "the agent ended with the run")
        }
    }

    @Test("the engine's rules through the agent: follow-ups pinned, feedback in order, deaths, garbage, time limits")
    func rulesThroughTheAgent() async throws {
        let directory = TemporaryDirectory()
        let (ssh, _) = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 2)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)",
            retries: 1, timeout: 1)
        let test = try TestRun(chaos: ["followup:3", "feedback:50", "segv", "garbage", "hang", "echo:after"], configuration)
        let report = try await test.startAndFinish()
        func outcome(_ action: String) -> TaskOutcome? {
            report.results.first { $0.parent == nil && ($0.name ?? "").hasSuffix(" " + action) }?.outcome
        }
        let followUps = report.results.filter { $0.parent != nil }
        #expect(!followUps.isEmpty && followUps.allSatisfy { $0.outcome == .done },
                "each follow-up answered by the worker it was pinned to: \(followUps)")
        #expect(outcome("followup:3") == .done)
        #expect(outcome("feedback:50") == .done, "feedback 1..50 arrived in order")
        #expect(outcome("segv") == .failed, "segv: died twice (one retry)")
        #expect(outcome("garbage") == .failed, "garbage: a marshal error")
        #expect(outcome("hang") == .expired, "hang: killed through the agent at the time limit")
        #expect(outcome("echo:after") == .done)
        let deaths = test.log.workersEnded.map(\.reason)
        #expect(deaths.contains { $0.contains("was killed by signal 11 (SIGSEGV)") }, "\(deaths)")
        #expect(deaths.contains { $0.contains("marshal error") }, "\(deaths)")
    }

    @Test("two kinds share -j through one agent: one launch, never more than -j workers alive, every task done")
    func kindsShareTheBudget() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 2)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)")
        let test = TestRun(configuration)
        try test.addChaos(["--repeat", "12", "sleep:20"], policy: .oneShot)
        try test.addChaos(["--repeat", "12", "sleep:20"], policy: .persistent)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 24)
        #expect(report.pluginReports.count == 2)
        var alive: Set<String> = []
        var most = 0
        for kind in test.log.kinds {
            switch kind {
            case .workerStarted(let worker, _, _):
                alive.insert(worker)
                most = max(most, alive.count)
            case .workerEnded(let worker, _):
                alive.remove(worker)
            default:
                break
            }
        }
        #expect(most <= 2, "at most -j workers alive at once over both kinds: \(most)")
        #expect(Self.launches(launches).count == 1, "one agent carries both kinds")
    }

    @Test("kill -9 of the agent: its workers are lost naming the host, their tasks retried on a new agent")
    func agentKilled() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 2)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", retries: 1)
        let test = try TestRun(chaos: ["sleep:800", "sleep:800", "echo:later"], configuration)
        let log = test.log
        let killed = Reaction { () -> [(name: String, pid: Int32)] in
            guard log.blockingWaitForStart(of: 1, attempt: 1) != nil, log.blockingWaitForStart(of: 2, attempt: 1) != nil,
                  let agent = Self.launches(launches).first else { return [] }
            let workers = log.workersStarted
            return ProcessProbe.kill(worker: "agent@alpha", pid: agent.pid) ? workers : []
        }
        test.start()
        let workers = await killed.value
        #expect(workers.count == 2)
        let report = try await test.finish()
        #expect(report.counts.done == 3, "both tasks retried and done")
        let retries = test.log.retries
        #expect(retries.count == 2, "\(retries) \(test.log.workersEnded)")
        #expect(retries.allSatisfy { $0.reason.contains("host alpha") }, "\(retries)")
        #expect(Self.launches(launches).count == 2, "a new agent for the retries")
        for worker in workers {
            #expect(!ProcessProbe.isAlive(pid: worker.pid, name: worker.name), "\(worker.name) died with its agent")
        }
    }

    @Test("a stopped agent (a host gone silent): every worker lost at once, one outage, the tasks done after the back-off")
    func agentSilent() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 2)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", retries: 1)
        let test = try TestRun(chaos: ["sleep:1500", "sleep:1500"], configuration)
        let log = test.log
        let stopped = Reaction { () -> ProcessHandle? in
            guard log.blockingWaitForStart(of: 1, attempt: 1) != nil, log.blockingWaitForStart(of: 2, attempt: 1) != nil,
                  let agent = Self.launches(launches).first, let handle = ProcessHandle(pid: agent.pid),
                  ProcessProbe.isAlive(pid: agent.pid, name: "agent@alpha"), handle.send(signal: SIGSTOP) else { return nil }
            return handle
        }
        test.start()
        let agent = try #require(await stopped.value)
        defer {
            // Through its pidfd: the master kills it with its connection, and its pid may by now
            // be another test's worker.
            agent.send(signal: SIGKILL)
            agent.send(signal: SIGCONT)
        }
        let report = try await test.finish()
        #expect(report.counts.done == 2)
        let downs = test.log.kinds.filter { if case .hostDown = $0 { true } else { false } }
        #expect(downs.count == 1, "one outage: \(downs)")
        #expect(test.log.retries.allSatisfy { $0.reason.contains("host alpha") })
    }

    @Test("recycling by resident memory holds for a worker the agent runs")
    func recyclingByMemory() async throws {
        let directory = TemporaryDirectory()
        let (ssh, _) = Self.fakeSSH(in: directory)
        var configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 1)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)",
            maxWorkerRSSBytes: 48 << 20)
        // The check between jobs only: the one during a job (MemoryLimitTests) would race the leak.
        configuration.memoryCheckInterval = 3600
        let test = try TestRun(chaos: ["leak:80", "echo:next"], policy: .persistent, configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        let ends = test.log.workersEnded.map(\.reason)
        #expect(ends.contains { $0.hasPrefix("recycled: resident memory") }, "\(ends)")
        #expect(test.log.workersStarted.count == 2)
    }

    @Test("a host without the plugin gets it from the master once, verified, cached by digest")
    func pluginSentToTheHost() async throws {
        let directory = TemporaryDirectory()
        // The plugin lives in a directory the agent's host cannot see (a tmpfs mounted over it
        // in the agent's own mount namespace), as on a node with nothing installed.
        let hidden = try HiddenPlugin(in: directory)
        let plugin = hidden.path
        let cache = directory.path + "/cache"
        let (ssh, _) = Self.fakeSSH(
            in: directory,
            prefix: "env PLUGIN_HOST_BLOB_CACHE='\(cache)' unshare -m sh -c 'mount -t tmpfs none \(hidden.directory) && exec \"$@\"' sh")
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 2)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)")
        let test = TestRun(configuration)
        try test.run.addKind(PluginLibrary(path: plugin), arguments: ["--repeat", "10", "echo:x"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 10)
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.count == 64 }
        #expect(cached.count == 1, "the plugin, stored under its SHA-256: \(cached)")
    }
}
