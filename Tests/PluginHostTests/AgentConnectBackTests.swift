// A launcher that connects back (srun): the agent reaches the master over a TCP connection of its
// own, authenticated by a secret in its environment, instead of srun's relay of standard input
// and output. Tested with a stand-in `srun` that runs the agent here with srun's address
// variable; the real Slurm run is Tests/Integration/slurm.sh.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker agents that connect back over TCP (srun launchers)")
struct AgentConnectBackTests {
    /// A stand-in `srun` (the file's name is what makes the launcher connect back): records its
    /// pid in `launches`, runs `before` (shell lines; `$port` is the port of --connect-back), then
    /// runs the agent with `environment` words before it (`env` arguments) and its standard
    /// output on `stdout` (the launcher's own output stays open on descriptor 3 while it lives, as
    /// srun's does).
    static func fakeSrun(in directory: TemporaryDirectory, environment: String = "SLURM_LAUNCH_NODE_IPADDR=127.0.0.1",
                         stdout: String = "/dev/null", before: String = "") -> (srun: String, launches: String) {
        let launches = directory.path + "/launches"
        let srun = directory.write("srun", """
            #!/bin/bash
            echo "$$" >> '\(launches)'
            port=
            previous=
            for word in "$@"; do
              [ "$previous" = --connect-back ] && port=$word
              previous=$word
            done
            \(before)
            exec env \(environment) "$@" 3>&1 >\(stdout)
            """)
        return (srun, launches)
    }

    static func configuration(launcher: String, slots: Int = 2) throws -> HostConfiguration {
        var configuration = HostConfiguration.test(jobs: slots, retries: 1)
        configuration.hosts = [WorkerHost(name: "node", slots: slots)]
        configuration.launcher = try WorkerLauncher(template: launcher)
        configuration.heartbeatInterval = 0.3
        configuration.hostBackOff = 0.05
        return configuration
    }

    static func launches(_ path: String) -> [Int32] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    @Test("srun launchers connect back; others do not")
    func whichLaunchers() throws {
        #expect(try WorkerLauncher(template: "/bin/echo srun -u -w {host} plugin-worker").connectsBack)
        #expect(try WorkerLauncher(template: "/usr/bin/timeout 60 /usr/bin/srun plugin-worker").connectsBack)
        #expect(try !WorkerLauncher(template: "/bin/echo {host} /opt/srun-tools/plugin-worker").connectsBack)
        #expect(try !WorkerLauncher(template: "/bin/echo ssh {host} plugin-worker").connectsBack)
    }

    @Test("the frames travel over the connection back: the launcher's output carries none, and one agent serves the run")
    func framesOverTheConnection() async throws {
        let directory = TemporaryDirectory()
        let (srun, launches) = Self.fakeSrun(in: directory)
        let test = try TestRun(chaos: ["--repeat", "40", "echo:x"], policy: .oneShot,
                               Self.configuration(launcher: "\(srun) \(TestPaths.pluginWorker)"))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 40, "\(report.counts)")
        let agents = Self.launches(launches)
        #expect(agents.count == 1, "one agent for the whole run: \(agents)")
        for agent in agents { #expect(!ProcessProbe.isAlive(pid: agent, name: "agent@node"), "the agent ended with the run") }
        #expect(!test.log.stderrLines.contains { $0.contains("relay") }, "\(test.log.stderrLines)")
    }

    @Test("a peer that does not send the secret is disconnected; the agent that does is served")
    func impostorRefused() async throws {
        let directory = TemporaryDirectory()
        let refused = directory.path + "/refused"
        // The impostor connects first, offers 64 wrong digits and waits for the master to hang up.
        let (srun, launches) = Self.fakeSrun(in: directory, before: """
            exec 4<>/dev/tcp/127.0.0.1/$port
            printf '%064d' 0 >&4
            cat <&4 >/dev/null
            exec 4<&-
            echo refused >> '\(refused)'
            """)
        let test = try TestRun(chaos: ["--repeat", "6", "echo:x"], policy: .oneShot,
                               Self.configuration(launcher: "\(srun) \(TestPaths.pluginWorker)"))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 6)
        #expect(((try? String(contentsOfFile: refused, encoding: .utf8)) ?? "") == "refused\n")
        #expect(Self.launches(launches).count == 1, "the impostor cost no agent: the first launch served the run")
    }

    @Test("peers that connect first and send nothing (a port scanner) do not keep the agent from starting")
    func silentPeersBeforeTheAgent() async throws {
        let directory = TemporaryDirectory()
        // Fourteen connections wait in the listener's queue ahead of the agent's and stay open,
        // silent, as long as the agent lives (it inherits them). Checked one at a time, each for
        // a second, they would outlast the 10 s handshake: the agent's start would fail.
        let (srun, launches) = Self.fakeSrun(in: directory, before: """
            for descriptor in $(seq 10 23); do
              eval "exec $descriptor<>/dev/tcp/127.0.0.1/$port"
            done
            """)
        var configuration = try Self.configuration(launcher: "\(srun) \(TestPaths.pluginWorker)")
        configuration.handshakeTimeout = 10
        let test = try TestRun(chaos: ["--repeat", "6", "echo:x"], policy: .oneShot, configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 6, "\(report.counts)")
        #expect(Self.launches(launches).count == 1, "the silent peers cost no agent: the first launch served the run")
    }

    @Test("without srun's address the agent says so and uses the launcher's relay")
    func relayWithoutAddress() async throws {
        let directory = TemporaryDirectory()
        let (srun, launches) = Self.fakeSrun(in: directory, environment: "-u SLURM_LAUNCH_NODE_IPADDR", stdout: "&3")
        let test = try TestRun(chaos: ["--repeat", "10", "echo:x"], policy: .oneShot,
                               Self.configuration(launcher: "\(srun) \(TestPaths.pluginWorker)"))
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 10)
        #expect(Self.launches(launches).count == 1)
        #expect(test.log.stderrLines.contains { $0.contains("no SLURM_LAUNCH_NODE_IPADDR in the environment; using the launcher's relay") },
                "\(test.log.stderrLines)")
    }

    @Test("kill -9 of the launcher: the connection is lost at once though the agent lives on, and the task retried")
    func launcherKilled() async throws {
        let directory = TemporaryDirectory()
        // The launcher stays as the agent's parent (no exec), as srun does; the agent keeps its
        // standard input (bash would give a background command /dev/null).
        let launches = directory.path + "/launches"
        let srun = directory.write("srun", """
            #!/bin/bash
            echo "$$" >> '\(launches)'
            env SLURM_LAUNCH_NODE_IPADDR=127.0.0.1 "$@" <&0 >/dev/null &
            wait
            """)
        let test = try TestRun(chaos: ["sleep:800", "echo:later"], Self.configuration(launcher: "\(srun) \(TestPaths.pluginWorker)", slots: 1))
        let log = test.log
        let killed = Reaction { () -> Bool in
            guard log.blockingWaitForStart(of: 1, attempt: 1) != nil, let launcher = Self.launches(launches).first else { return false }
            return kill(launcher, SIGKILL) == 0
        }
        test.start()
        #expect(await killed.value)
        let report = try await test.finish()
        #expect(report.counts.done == 2, "the task retried on a new agent")
        #expect(test.log.retries.count == 1 && test.log.retries[0].reason.contains("host node"), "\(test.log.retries)")
        #expect(Self.launches(launches).count == 2)
    }
}
