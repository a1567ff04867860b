// Workers started through a launcher and spread over hosts (issue 5), tested on this machine:
// the "launcher" is `env` or a fake ssh script, so every rule about hosts — placement, back-off,
// dropping, heartbeats, errors naming the host — is exercised without a network. The real ssh
// and network-namespace run is Tests/Integration/remote-hosts.sh.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Launcher templates and hosts files")
struct LauncherTemplateTests {
    @Test("a template splits like a shell line and fills its placeholders")
    func templateWords() throws {
        let launcher = try WorkerLauncher(template: #"/usr/bin/ssh -o 'BatchMode=yes' {host} "/opt/p h/plugin-worker" a\ b"#)
        #expect(launcher.words == ["/usr/bin/ssh", "-o", "BatchMode=yes", "{host}", "/opt/p h/plugin-worker", "a b"])
        let argv = launcher.command(host: "node7", pluginPath: "/build/libX.so", workerName: "x:0:1",
                                    workerOptions: ["--heartbeat", "2.0"])
        #expect(argv == ["/usr/bin/ssh", "-o", "BatchMode=yes", "node7", "/opt/p h/plugin-worker", "a b",
                         "--plugin", "/build/libX.so", "--name", "x:0:1", "--heartbeat", "2.0"])
    }

    @Test("a template that names the plugin gets no --plugin appended")
    func templateNamesPlugin() throws {
        let launcher = try WorkerLauncher(template: "/bin/env W={worker} /srv/plugin-worker --plugin /srv/plugins/{plugin-file}")
        let argv = launcher.command(host: "", pluginPath: "/build/debug/libChaosPlugin.so", workerName: "chaos:1:4",
                                    workerOptions: [])
        #expect(argv == ["/bin/env", "W=chaos:1:4", "/srv/plugin-worker", "--plugin", "/srv/plugins/libChaosPlugin.so",
                         "--name", "chaos:1:4"])
    }

    @Test("the program is looked up in PATH; a missing one or a bad quote is a one-line usage error",
          arguments: [("no-such-launcher-xyz {host}", "--launcher: no-such-launcher-xyz: not found in PATH"),
                      ("ssh 'open", "--launcher: unterminated single quote"),
                      ("ssh \"open", "--launcher: unterminated double quote"),
                      ("   ", "--launcher: the template is empty")])
    func templateErrors(template: String, message: String) {
        #expect {
            _ = try WorkerLauncher(template: template, searchPath: "/usr/bin:/bin")
        } throws: { error in
            "\(error)".hasPrefix(message) && !"\(error)".contains("\n")
        }
        #expect((try? WorkerLauncher(template: "env x", searchPath: "/usr/bin:/bin"))?.executable == "/usr/bin/env")
    }

    @Test("a hosts file: HOST [SLOTS] per line, comments and blanks ignored")
    func hostsFile() throws {
        let hosts = try WorkerHost.parseHostsFile("# pool\nalpha 2\n\n  beta   # one slot\n:\t3\n", path: "h.txt")
        #expect(hosts == [WorkerHost(name: "alpha", slots: 2), WorkerHost(name: "beta", slots: 1),
                          WorkerHost(name: ":", slots: 3)])
        #expect(hosts[2].isLocal && !hosts[0].isLocal)
        #expect(WorkerHost.slotAssignment(hosts, jobs: 6) == [0, 1, 2, 0, 2, 2])
        #expect(WorkerHost.slotAssignment(hosts, jobs: 2) == [0, 1], "a smaller budget still spreads over hosts")
    }

    @Test("a bad hosts file names the file, the line and the cause",
          arguments: [("a 2\nb x\n", "h:2: slots must be a number from 1 to 4096, found 'x'"),
                      ("a 0\n", "h:1: slots must be a number from 1 to 4096, found '0'"),
                      ("a 1 2\n", "h:1: expected 'HOST [SLOTS]', found 3 fields"),
                      ("a\n# c\na 3\n", "h:3: host a is listed twice"),
                      ("-oProxyCommand=x 1\n", "h:1: a host name cannot start with '-'"),
                      ("# nothing\n\n", "h: no hosts listed")])
    func badHostsFile(text: String, message: String) {
        #expect {
            _ = try WorkerHost.parseHostsFile(text, path: "h")
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }
}

@Suite("Workers on hosts through a launcher")
struct WorkerPlacementTests {
    /// A fake ssh: `fake-ssh HOST COMMAND...` runs COMMAND here, except for hosts named `down*`,
    /// for which it fails the way ssh does (a message on stderr, status 255).
    static func fakeSSH(in directory: TemporaryDirectory) -> String {
        directory.write("fake-ssh", """
            #!/bin/sh
            host="$1"; shift
            case "$host" in
              down*) echo "ssh: connect to host $host port 22: Connection refused" >&2; exit 255 ;;
            esac
            exec "$@"
            """)
    }

    static func configuration(hosts: [WorkerHost], launcher: String, heartbeat: Double? = nil,
                              backOff: Double = 0.05, retries: Int = 1) throws -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: hosts.reduce(0) { $0 + $1.slots }, retries: retries)
        configuration.hosts = hosts
        configuration.launcher = try WorkerLauncher(template: launcher)
        configuration.heartbeatInterval = heartbeat
        configuration.hostBackOff = backOff
        return configuration
    }

    @Test("tasks spread over two launched hosts; every task done, workers started on both")
    func twoHosts() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 1), WorkerHost(name: "beta", slots: 1)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", heartbeat: 0.3)
        // (Heartbeats every 0.3 s: at 0.05 s a machine at load 20 lost a live worker now and then.)
        // (Long enough for the second host's worker to start: each host first starts its agent.)
        let test = try TestRun(chaos: ["--repeat", "20", "sleep:50"], configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 20)
        #expect(report.exitStatus == 0)
        let slots = Set(test.log.workersStarted.map { $0.name.split(separator: ":")[1] })
        #expect(slots == ["0", "1"], "slot 0 is alpha's, slot 1 beta's: both ran workers")
        #expect(!test.log.kinds.contains { if case .hostDown = $0 { true } else { false } })
    }

    @Test("a host that cannot be reached is backed off, then dropped; the run finishes on the other")
    func unreachableHostIsDropped() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 1), WorkerHost(name: "down-1", slots: 1)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", backOff: 0.02)
        // Enough work to outlast the back-offs (0.02 s, then 0.04 s) of the third failure.
        let test = try TestRun(chaos: ["--repeat", "40", "sleep:20"], configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 40)
        #expect(report.exitStatus == 0)
        #expect(report.setupErrors.isEmpty)
        let downs = test.log.kinds.compactMap { kind -> String? in
            if case .hostDown(let host, let message, _) = kind { return "\(host): \(message)" } else { return nil }
        }
        #expect(downs.count == 2, "two back-offs before the third failure drops it: \(downs) \(test.log.droppedHosts)")
        #expect(downs.allSatisfy { $0.hasPrefix("down-1: host down-1: ") && $0.contains("Connection refused") }, "\(downs)")
        #expect(test.log.droppedHosts == ["down-1"])
        #expect(test.log.workersStarted.allSatisfy { $0.name.split(separator: ":")[1] == "0" }, "only alpha's slot ran workers")
    }

    /// The dropped host's slots must not keep tasks waiting (or the run from ending) once the
    /// host is gone: dispatch skips them.
    @Test("a dropped host with several slots leaves none of them waiting; the run finishes on the other host")
    func droppedHostWithSeveralSlots() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "down-1", slots: 3), WorkerHost(name: "alpha", slots: 1)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", backOff: 0.01)
        let test = try TestRun(chaos: ["--repeat", "60", "sleep:10"], configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 60)
        #expect(report.exitStatus == 0 && report.setupErrors.isEmpty)
        #expect(test.log.droppedHosts == ["down-1"])
        // Slots interleave over hosts: down-1 has slots 0, 2 and 3, alpha slot 1.
        #expect(!test.log.workersStarted.isEmpty)
        #expect(test.log.workersStarted.allSatisfy { $0.name.split(separator: ":")[1] == "1" }, "only alpha's slot ran workers")
    }

    @Test("with every host dropped the tasks fail as a set-up error naming the host")
    func noHostLeft() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(hosts: [WorkerHost(name: "down-2", slots: 2)],
                                                   launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", backOff: 0.01)
        let test = try TestRun(chaos: ["echo:a", "echo:b"], configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.failed == 2)
        #expect(report.exitStatus == 2)
        let error = try #require(report.setupErrors.first)
        #expect(error.contains("no worker host left; last failure: host down-2: "), "\(error)")
        #expect(error.contains("Connection refused"), "\(error)")
    }

    /// Runs one chaos task on host `host`, whose "copy" of the plugin is looked up in
    /// `directory/remote`; returns the run's first set-up error.
    static func setupErrorWithRemotePlugin(host: String, in directory: TemporaryDirectory) async throws -> String {
        let ssh = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: host, slots: 1)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker) --plugin \(directory.path)/remote/{plugin-file}",
            backOff: 0.01)
        let test = try TestRun(chaos: ["echo:a"], configuration)
        let report = try await test.startAndFinish()
        #expect(report.exitStatus == 2)
        return try #require(report.setupErrors.first)
    }

    @Test("a plugin missing on the host is a spawn failure naming the host and the path")
    func pluginMissingOnHost() async throws {
        let directory = TemporaryDirectory()
        let error = try await Self.setupErrorWithRemotePlugin(host: "gamma", in: directory)
        #expect(error.contains("host gamma: "), "\(error)")
        #expect(error.contains("\(directory.path)/remote/libChaosPlugin.so"), "\(error)")
    }

    @Test("another plugin under the plugin's file name on the host is refused in the handshake, naming the host")
    func pluginDiffersOnHost() async throws {
        let directory = TemporaryDirectory()
        mkdir(directory.file("remote"), 0o755)
        let other = TestPaths.binDirectory + "/libEchoSwiftPlugin.so"
        #expect(symlink(other, directory.file("remote/libChaosPlugin.so")) == 0)
        let error = try await Self.setupErrorWithRemotePlugin(host: "delta", in: directory)
        #expect(error.contains("host delta: "), "\(error)")
        #expect(error.contains("host expects 'chaos'"), "\(error)")
    }

    @Test("a worker that stops answering is lost after its missed heartbeats; its task is retried")
    func silentWorkerIsLost() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        var configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 1)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", heartbeat: 0.1, backOff: 0.01)
        // Each worker its own link: through an agent, a frozen worker behind a live agent is a
        // hung worker (--timeout's case), and a frozen agent is AgentTests' case.
        configuration.usesAgents = false
        let test = try TestRun(chaos: ["sleep:1000", "echo:after"], configuration)
        let log = test.log
        // Frozen, it neither sends heartbeats nor reads ours: to the master it looks like a cut link.
        let frozen = Reaction { () -> String? in
            guard let worker = log.blockingWaitForStart(of: 1, attempt: 1),
                  log.signal(worker: worker, SIGSTOP) else { return nil }
            return worker
        }
        test.start()
        let worker = try #require(await frozen.value, "could not freeze the first task's worker")
        let report = try await test.finish()
        #expect(report.counts.done == 2)
        let retry = try #require(test.log.retries.first)
        #expect(retry.task == 1)
        #expect(retry.reason.contains("host alpha: \(worker) sent nothing for"), "\(retry.reason)")
        #expect(retry.reason.contains("host or link down"), "\(retry.reason)")
        #expect(test.log.workers(of: 1).count == 2)
        #expect(test.log.kinds.contains { if case .hostDown("alpha", _, _) = $0 { true } else { false } })
    }

    @Test("one outage counts once: three workers of a host going silent together back it off, do not drop it")
    func oneOutageCountsOnce() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        var configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 3)],
            launcher: "\(ssh) {host} \(TestPaths.pluginWorker)", heartbeat: 0.3, backOff: 0.05)
        configuration.usesAgents = false  // (Each worker its own link; the agent's case is in AgentTests.)
        // (Heartbeats every 0.3 s: at 0.1 s a loaded machine could delay a live worker's by the
        // 0.3 s that declare it lost, before the reaction below froze it.)
        let test = try TestRun(chaos: ["sleep:1500", "sleep:1500", "sleep:1500"], configuration)
        let log = test.log
        // All three workers frozen at once: to the master, the host's link went down.
        let frozen = Reaction { () -> Int in
            var count = 0
            for task in UInt64(1)...3 {
                guard let worker = log.blockingWaitForStart(of: task, attempt: 1),
                      log.signal(worker: worker, SIGSTOP) else { continue }
                count += 1
            }
            return count
        }
        test.start()
        #expect(await frozen.value == 3)
        let report = try await test.finish()
        #expect(report.counts.done == 3, "every task retried and done on the same host after its back-off")
        let downs = test.log.kinds.filter { if case .hostDown = $0 { true } else { false } }
        #expect(downs.count == 1, "one outage, one failure: \(downs)")
        #expect(test.log.droppedHosts.isEmpty)
        #expect(test.log.retries.count == 3)
    }

    @Test("a launched worker ending with status 255 (ssh's own failure) counts against its host; the task is retried")
    func statusOf255IsAHostFailure() async throws {
        let directory = TemporaryDirectory()
        let ssh = Self.fakeSSH(in: directory)
        let configuration = try Self.configuration(
            hosts: [WorkerHost(name: "alpha", slots: 1)], launcher: "\(ssh) {host} \(TestPaths.pluginWorker)",
            backOff: 0.01, retries: 0)
        let test = try TestRun(chaos: ["exit:255", "echo:after"], configuration)
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .failed)
        #expect(try report.result(2).outcome == .done, "the host is only backed off, not dropped")
        let downs = test.log.kinds.compactMap { kind -> String? in
            if case .hostDown("alpha", let message, _) = kind { return message } else { return nil }
        }
        #expect(downs.count == 1 && downs[0].hasPrefix("host alpha: ") && downs[0].contains("exited with status 255"),
                "\(downs)")
    }

    @Test("a worker whose master goes silent exits by itself after its missed heartbeats")
    func workerLeavesASilentMaster() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.pluginWorker)
        process.arguments = ["--plugin", TestPaths.chaosPlugin, "--name", "t:0:0", "--heartbeat", "0.05",
                             "--heartbeat-misses", "3"]
        let input = Pipe()  // Kept open and never written: no end of file, no heartbeat.
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 3)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("t:0:0: no word from the master for"), "\(message)")
        // On the wire: its hello, then heartbeats.
        var decoder = FrameDecoder(maximumPayload: 1 << 20)
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        bytes.withUnsafeBytes { decoder.feed($0) }
        var types: [FrameType] = []
        while let frame = try decoder.next() { types.append(frame.type) }
        #expect(types.first == .hello)
        #expect(types.dropFirst().allSatisfy { $0 == .heartbeat } && types.count >= 2, "\(types)")
        try? input.fileHandleForWriting.close()
    }
}
