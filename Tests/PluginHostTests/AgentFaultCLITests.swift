// Issue 17, "Bad input and faults", through plugin-host itself: a host whose agent cannot start, a
// plugin that will not load there, an agent killed, a node gone silent. Each is one line naming
// the host and the cause; the tasks run on the hosts left (retried under --retries); the run
// fails with exit status 2 only when no host is left. The "hosts" are this machine behind a fake
// ssh that fails, hides things or records the agent's pid, per host name.
import Foundation
import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker agents: faults through plugin-host")
struct AgentFaultCLITests {
    /// A fake ssh, `fake-ssh HOST COMMAND...`: appends `HOST PID` to `launches` (the pid of the
    /// agent once the shell replaced itself), then runs COMMAND here, except on these hosts:
    /// `noagent*` runs a plugin-worker that is not there (the agent cannot start); `noload*` runs
    /// the agent where `hidden` is empty and the blob cache cannot hold programs (`noexec`), so
    /// the plugin fetched from the master does not load there.
    static func fakeSSH(in directory: TemporaryDirectory, hidden: String = "/nonexistent")
        -> (ssh: String, launches: String)
    {
        let launches = directory.file("launches")
        let cache = directory.file("cache")
        let ssh = directory.write("fake-ssh", """
            #!/bin/sh
            host="$1"; shift
            echo "$host $$" >> \(ShellQuoting.quote(launches))
            case "$host" in
              noagent*) shift; exec /nonexistent/plugin-worker "$@" ;;
              noload*) exec env PLUGIN_HOST_BLOB_CACHE=\(ShellQuoting.quote(cache)) unshare -m sh -c \
                'mount -t tmpfs none "$0" && mkdir -p "$1" && mount -t tmpfs -o noexec,mode=700 none "$1" && shift && exec "$@"' \
                \(ShellQuoting.quote(hidden)) \(ShellQuoting.quote(cache)) "$@" ;;
            esac
            exec "$@"
            """)
        return (ssh, launches)
    }

    /// `plugin-host run` over the hosts `hosts` (`NAME SLOTS` lines) through `ssh`.
    static func arguments(_ directory: TemporaryDirectory, hosts: String, ssh: String, _ rest: [String]) -> [String] {
        ["run", "--hosts", directory.write("hosts", hosts),
         "--launcher", "\(ShellQuoting.quote(ssh)) {host} \(ShellQuoting.quote(TestPaths.pluginWorker))"] + rest
    }

    /// The agent pids launched so far, by host.
    static func agents(_ launches: String) -> [(host: String, pid: Int32)] {
        String(decoding: ProcessProbe.readFile(launches) ?? [], as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let pid = Int32(fields[1]) else { return nil }
            return (String(fields[0]), pid)
        }
    }

    /// The workers `agent` runs now (children of its fork server), by pid.
    static func workers(of agent: Int32) -> [Int32] {
        ProcessProbe.children(of: agent, containing: "--fork-server").flatMap { ProcessProbe.children(of: $0, containing: "--name") }
    }

    /// Lines of `stderr` that are plugin-host's own (not forwarded from an agent or worker).
    static func hostLines(_ result: CLIResult) -> [String] {
        result.errorLines.filter { $0.hasPrefix("plugin-host: ") }
    }

    @Test("a host whose agent cannot start: one line naming it and the cause; the run finishes on the other host")
    func agentCannotStart() async throws {
        let directory = TemporaryDirectory()
        let (ssh, _) = Self.fakeSSH(in: directory)
        let result = try await HostProcess.run(
            Self.arguments(directory, hosts: "alpha 1\nnoagent-1 1\n", ssh: ssh, ["chaos", "--repeat", "12", "sleep:100"]))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("12 tasks, done 12, failed 0"), "stdout: \(result.stdout)")
        let down = Self.hostLines(result).filter { $0.contains("host noagent-1 is down") }
        #expect(!down.isEmpty, "stderr: \(result.stderr)")
        #expect(down.allSatisfy { $0.contains("host noagent-1: its worker agent ended") && $0.contains("/nonexistent/plugin-worker") },
                "\(down)")
        #expect(!Self.hostLines(result).contains { $0.contains("host alpha") }, "alpha never failed: \(result.stderr)")
    }

    @Test("no host left: exit status 2 and one error line naming the last host and its cause")
    func noHostLeft() async throws {
        let directory = TemporaryDirectory()
        let (ssh, _) = Self.fakeSSH(in: directory)
        let result = try await HostProcess.run(
            Self.arguments(directory, hosts: "noagent-1 1\n", ssh: ssh, ["chaos", "--repeat", "3", "echo:x"]))
        #expect(result.status == 2, "stderr: \(result.stderr)")
        let errors = Self.hostLines(result).filter { $0.hasPrefix("plugin-host: error: ") }
        #expect(errors.count == 1, "stderr: \(result.stderr)")
        #expect(errors.first?.contains("no worker host left; last failure: host noagent-1: its worker agent ended") == true
                && errors.first?.contains("/nonexistent/plugin-worker") == true, "\(errors)")
        #expect(Self.hostLines(result).contains { $0.hasPrefix("plugin-host: warning: host noagent-1 dropped from the run") })
        #expect(result.stdout.contains("3 tasks, done 0, failed 3"), "stdout: \(result.stdout)")
    }

    @Test("a plugin that will not load on a host: one line naming the host, the plugin's own path and the loader's cause")
    func pluginWillNotLoad() async throws {
        let directory = TemporaryDirectory()
        // The plugin lives where the noload host sees nothing (a tmpfs over it in the agent's
        // mount namespace): it is sent there, kept in a cache mounted noexec, and cannot be mapped.
        let hidden = try HiddenPlugin(in: directory)
        let plugin = hidden.path
        let (ssh, _) = Self.fakeSSH(in: directory, hidden: hidden.directory)
        let result = try await HostProcess.run(
            Self.arguments(directory, hosts: "alpha 1\nnoload-1 1\n", ssh: ssh, [plugin, "--repeat", "12", "sleep:100"]))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("12 tasks, done 12, failed 0"), "stdout: \(result.stdout)")
        let down = Self.hostLines(result).filter { $0.contains("host noload-1 is down") }
        #expect(!down.isEmpty, "stderr: \(result.stderr)")
        #expect(down.allSatisfy { $0.contains("host noload-1: \(plugin): cannot load plugin: ") && $0.contains("failed to map segment") },
                "\(down)")
        #expect(!result.stderr.contains("/proc/"), "the plugin is named by its path, not a descriptor's: \(result.stderr)")
    }

    /// A FIFO whose `wait:` tasks run until ``release(_:)``.
    static func fifo(in directory: TemporaryDirectory) -> String {
        let path = directory.file("gate")
        mkfifo(path, 0o600)
        return path
    }

    /// Ends every `wait:` task reading `fifo` now, and those that start later, until cancelled.
    static func release(_ fifo: String) -> Task<Void, Never> {
        Task.detached {
            while !Task.isCancelled {
                let descriptor = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)  // (ENXIO: no reader yet.)
                if descriptor >= 0 { close(descriptor) }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Waits until beta's worker runs its `wait:` task (blocked opening the FIFO: `openat`, system
    /// call 257, in /proc/PID/syscall), then returns beta's agent pid; nil if that did not happen
    /// within 60 s or the host ended.
    static func betaBusy(_ host: HostProcess, launches: String) async throws -> Int32? {
        for _ in 0..<6_000 {
            if let beta = agents(launches).first(where: { $0.host == "beta" }),
               workers(of: beta.pid).contains(where: { ProcessProbe.readFile("/proc/\($0)/syscall")?.starts(with: Array("257 ".utf8)) == true }) {
                return beta.pid
            }
            if !host.process.isRunning { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    @Test("kill -9 of a host's agent: one line naming the host, its task retried, every task done, no worker left")
    func agentKilled() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = Self.fakeSSH(in: directory)
        let gate = Self.fifo(in: directory)
        let host = try HostProcess(
            Self.arguments(directory, hosts: "alpha 1\nbeta 1\n", ssh: ssh,
                           ["--retries", "1", "chaos", "wait:\(gate)", "wait:\(gate)"]))
        var workers: [ProcessHandle] = []
        var killed = false
        if let agent = try await Self.betaBusy(host, launches: launches) {
            workers = Self.workers(of: agent).compactMap(ProcessHandle.init(pid:))
            killed = ProcessProbe.kill(worker: "agent@beta", pid: agent)
        }
        let releasing = Self.release(gate)
        let result = await host.result()
        releasing.cancel()
        try #require(killed && !workers.isEmpty, "beta's agent was not killed while it ran a task; stderr: \(result.stderr)")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("2 tasks, done 2, failed 0"), "stdout: \(result.stdout)")
        let down = Self.hostLines(result).filter { $0.contains("host beta is down") }
        #expect(down.count == 1, "one outage, one line: \(result.stderr)")
        #expect(down.first.map { $0.contains("host beta: chaos:1:") && $0.hasSuffix("was lost: its worker agent ended") } == true,
                "\(down)")
        for worker in workers { #expect(!worker.isRunning, "worker \(worker.pid) died with its agent") }
    }

    @Test("a node gone silent (its agent stopped): one line naming the host and the silence, its task retried, exit 0")
    func nodeSilent() async throws {
        let directory = TemporaryDirectory()
        let (ssh, launches) = Self.fakeSSH(in: directory)
        let gate = Self.fifo(in: directory)
        let host = try HostProcess(
            Self.arguments(directory, hosts: "alpha 1\nbeta 1\n", ssh: ssh,
                           ["--heartbeat", "1", "--retries", "1", "chaos", "wait:\(gate)", "wait:\(gate)"]))
        var stopped: ProcessHandle?
        defer {
            // Through its pidfd: the master kills it with its connection, and its pid may by now
            // be another test's process.
            stopped?.send(signal: SIGKILL)
            stopped?.send(signal: SIGCONT)
        }
        if let agent = try await Self.betaBusy(host, launches: launches),
           let handle = ProcessHandle(pid: agent), ProcessProbe.isAlive(pid: agent, name: "agent@beta"),
           handle.send(signal: SIGSTOP) {
            stopped = handle
        }
        let releasing = Self.release(gate)
        let result = await host.result()
        releasing.cancel()
        try #require(stopped != nil, "beta's agent was not stopped while it ran a task; stderr: \(result.stderr)")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("2 tasks, done 2, failed 0"), "stdout: \(result.stdout)")
        let down = Self.hostLines(result).filter { $0.contains("host beta is down") }
        #expect(down.count == 1, "one outage, one line: \(result.stderr)")
        // (The connection's silence or its worker's, whichever the master notices first.)
        #expect(down.first.map { $0.contains("host beta: chaos:1:") && $0.contains("host or link down")
                                 && ($0.contains("no word from its worker agent for") || $0.contains(" sent nothing for ")) } == true,
                "\(down)")
        #expect(stopped?.isRunning == false, "the master killed the silent agent")
    }
}
