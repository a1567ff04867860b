// Launchers that pass their command through a remote shell (issue 12, defect 5): ssh joins the
// words after the destination into one line for the remote user's shell, so every value the host
// substitutes ({plugin}, {plugin-file}, {worker}) and every option it appends must be quoted for
// that shell, and a hosts file entry must be a host name, not a command. The real-sshd check is
// Tests/Integration/remote-hosts.sh.
import Foundation
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Words no unquoted shell would read back as themselves.
let hostileWords = ["", "plain", "a b", "it's", #""q""#, "$(touch pwned)", "`touch pwned`", "a&b;c|d>e<f", "*", "~root",
                    "tab\there\nnewline", #"back\slash"#, "é ü", "--x=y", "!", "#not a comment", "'", "''", "{a,b}",
                    "$IFS", "x:0:1", "/build/lib-X.so"]

/// What `sh -c LINE` prints for `printf '%s\0' LINE`: the words the shell read.
func wordsReadByShell(_ line: String, shell: String = "/bin/sh") throws -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: shell)
    process.arguments = ["-c", "printf '%s\\0' " + line]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    var words = String(decoding: data, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
    if words.last == "" { words.removeLast() }
    return words
}

@Suite("Shell quoting for launchers")
struct ShellQuotingTests {
    @Test("quoted words come back unchanged through a real sh -c (and bash when installed)")
    func roundTrip() throws {
        let line = hostileWords.map(ShellQuoting.quote).joined(separator: " ")
        for shell in ["/bin/sh", "/bin/bash", "/bin/dash"] where access(shell, X_OK) == 0 {
            #expect(try wordsReadByShell(line, shell: shell) == hostileWords, "through \(shell): \(line)")
        }
    }

    @Test("only words that need it are quoted, so ordinary command lines stay readable")
    func onlyWhenNeeded() {
        #expect(ShellQuoting.quote("/opt/plugin-host/libProofCheck.so") == "/opt/plugin-host/libProofCheck.so")
        #expect(ShellQuoting.quote("proofcheck:0:12") == "proofcheck:0:12")
        #expect(ShellQuoting.quote("2.0") == "2.0")
        #expect(ShellQuoting.quote("a b") == "'a b'")
        #expect(ShellQuoting.quote("it's") == #"'it'\''s'"#)
        #expect(ShellQuoting.quote("") == "''")
        #expect(ShellQuoting.quote("A=b") == "'A=b'", "never an assignment")
    }

    @Test("ssh-family launchers go through a remote shell by default; others do not; the choice can be given")
    func shellDetection() throws {
        #expect(try WorkerLauncher(template: "/usr/bin/ssh {host} w").shell == .remote)
        #expect(try WorkerLauncher(template: "ssh -o BatchMode=yes {host} w", searchPath: "/usr/bin:/bin").shell == .remote)
        #expect(try WorkerLauncher(template: "/usr/bin/env w").shell == WorkerLauncher.Shell.none)
        #expect(try WorkerLauncher(template: "/usr/bin/env w", shell: .remote).shell == .remote)
        #expect(try WorkerLauncher(template: "/usr/bin/ssh {host} w", shell: WorkerLauncher.Shell.none).shell == WorkerLauncher.Shell.none)
    }

    @Test("through a remote shell: substituted values and appended options are quoted, the destination is not")
    func remoteCommandQuoted() throws {
        let plugin = #"/b/p&touch pwned&x; $(id) it's/lib "X".so"#
        let launcher = try WorkerLauncher(template: "/usr/bin/ssh -o BatchMode=yes {host} /opt/plugin-worker")
        let argv = launcher.command(host: "root@[::1]", pluginPath: plugin, workerName: "x:0:1", workerOptions: ["--heartbeat", "2.0"])
        #expect(Array(argv.prefix(5)) == ["/usr/bin/ssh", "-o", "BatchMode=yes", "root@[::1]", "/opt/plugin-worker"])
        // What the remote shell reads from ssh's joined line is exactly the worker's argv.
        let remoteLine = argv.dropFirst(4).joined(separator: " ")
        #expect(try wordsReadByShell(remoteLine)
                == ["/opt/plugin-worker", "--plugin", plugin, "--name", "x:0:1", "--heartbeat", "2.0"], "\(remoteLine)")

        let named = try WorkerLauncher(template: "/usr/bin/ssh {host} /opt/plugin-worker --plugin=/srv/{plugin-file} --tag {worker}{plugin}")
        let namedArgv = named.command(host: "node7", pluginPath: plugin, workerName: "x:0:1", workerOptions: [])
        #expect(try wordsReadByShell(namedArgv.dropFirst(2).joined(separator: " "))
                == ["/opt/plugin-worker", #"--plugin=/srv/lib "X".so"#, "--tag", "x:0:1" + plugin, "--name", "x:0:1"])
    }

    @Test("a launcher that executes its arguments directly gets every value as it is")
    func directLauncherUnquoted() throws {
        let plugin = "/b/p q/it's.so"
        let launcher = try WorkerLauncher(template: "/usr/bin/env W={worker} /opt/plugin-worker --plugin {plugin}")
        let argv = launcher.command(host: "", pluginPath: plugin, workerName: "x:0:1", workerOptions: [])
        #expect(argv == ["/usr/bin/env", "W=x:0:1", "/opt/plugin-worker", "--plugin", plugin, "--name", "x:0:1"])
    }

    @Test("hosts file names: user@host, IPv4, IPv6 (plain or in brackets), DNS names and ssh aliases",
          arguments: ["build-1", "user@build-1.example.com", "10.213.1.2", "::1", "[fe80::1%eth0]", "fe80::1%eth0",
                      "root@[2001:db8::7]", "my_alias", "a.b-c.d", "::ffff:10.0.0.1"])
    func goodHostNames(name: String) throws {
        #expect(WorkerHost.isHostName(name))
        #expect(try WorkerHost.parseHostsFile("\(name) 2\n", path: "h") == [WorkerHost(name: name, slots: 2)])
    }

    @Test("anything else in a hosts file is refused: one line naming the file and line",
          arguments: ["h2&touch${IFS}/tmp/pwned&", "a;b", "$(id)", "`id`", "x|y", "'q'", "user@", "@host", "a..b",
                      "[::1", "build:22", "a@b@c", "host.-x", "*", "~root", "a\u{1B}[31m"])
    func badHostNames(name: String) {
        #expect(!WorkerHost.isHostName(name))
        #expect {
            _ = try WorkerHost.parseHostsFile("ok 1\n\(name) 1\n", path: "hosts")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("hosts:2: '") && text.contains("is not a host name") && !text.contains("\n")
                && !text.contains("\u{1B}")
        }
    }
}

@Suite("Launchers through a shell, from the command line")
struct LauncherShellCLITests {
    /// A launcher that behaves as sshd does: runs its arguments after the host as one shell
    /// line (`sh -c "$*"`), in `directory` (where an injected `touch` would leave its file).
    static func fakeSSHD(in directory: TemporaryDirectory) -> String {
        directory.write("fake-sshd", """
            #!/bin/sh
            host="$1"; shift
            cd \(ShellQuoting.quote(directory.path)) || exit 255
            exec sh -c "$*"
            """)
    }

    /// The markers an injected command would create.
    static let markers = ["pwned1", "pwned2", "pwned3"]

    @Test("a plugin path with &, ;, $(), a blank and quotes runs through a remote-shell launcher; nothing is injected",
          arguments: [#"p&touch pwned1&x;touch pwned2;$(touch pwned3) 'q' "d""#, #"p&touch pwned1&x;$(touch pwned2) it's "q""#],
                      ["", " --plugin {plugin}"])
    func hostilePluginPath(directoryName: String, templateTail: String) async throws {
        let directory = TemporaryDirectory()
        let hostile = directory.file(directoryName)
        let plugin = hostile + "/libChaosPlugin.so"
        #expect(mkdir(hostile, 0o700) == 0)
        try FileManager.default.copyItem(atPath: TestPaths.chaosPlugin, toPath: plugin)
        // The template's own words are the user's, written for the remote shell: the worker's
        // path quoted once for that shell, once more for the template.
        let worker = ShellQuoting.quote(ShellQuoting.quote(TestPaths.pluginWorker))
        let template = "\(Self.fakeSSHD(in: directory)) {host} \(worker)\(templateTail)"
        let result = try await HostProcess.run(["run", "-j", "1", "--launcher", template, "--launcher-shell", "remote",
                                                plugin, "echo:a", "echo:b"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("chaos: 2 tasks, done 2, failed 0"), "stdout: \(result.stdout)")
        for marker in Self.markers {
            #expect(access(directory.file(marker), F_OK) != 0, "\(marker) was created: a command was injected")
        }
    }

    @Test("a hosts file entry that is a command, not a host: exit 2, one line naming the file and line, nothing run")
    func hostileHostsEntry() async throws {
        let directory = TemporaryDirectory()
        let hosts = directory.write("hosts", "alpha 1\nh2&touch${IFS}\(directory.path)/pwned1& 1\n")
        let template = "\(Self.fakeSSHD(in: directory)) {host} \(ShellQuoting.quote(ShellQuoting.quote(TestPaths.pluginWorker)))"
        let result = try await HostProcess.run(["run", "--hosts", hosts, "--launcher", template, "--launcher-shell", "remote",
                                                "chaos", "echo:a"])
        #expect(result.status == 2)
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(hosts):2: 'h2&touch${IFS}"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("is not a host name"), "stderr: \(result.stderr)")
        #expect(access(directory.file("pwned1"), F_OK) != 0)
    }

    @Test("--launcher-shell takes remote or none, and needs a --launcher")
    func launcherShellOption() async throws {
        let bad = try await HostProcess.run(["run", "--launcher", "/usr/bin/env", "--launcher-shell", "maybe", "chaos", "echo:a"])
        #expect(bad.status == 2 && bad.stderr.contains("--launcher-shell takes remote or none"), "\(bad.stderr)")
        let alone = try await HostProcess.run(["run", "--launcher-shell", "none", "chaos", "echo:a"])
        #expect(alone.status == 2 && alone.stderr.contains("--launcher-shell needs a --launcher"), "\(alone.stderr)")
    }
}
