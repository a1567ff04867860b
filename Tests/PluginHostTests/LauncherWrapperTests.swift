// Review of issue 12, defect 5: whether a launcher goes through a remote shell was decided by its
// first word only, so `timeout 60 ssh {host} plugin-worker`, `env ssh …` or `sshpass -e ssh …`
// passed the plugin path and the other values to the remote shell unquoted, as before the fix:
// a path with `&` or a blank ran a command or broke the worker's arguments there.
import PluginHost
import Testing

@Suite("Launchers that wrap ssh")
struct LauncherWrapperTests {
    @Test("ssh run through a wrapper goes through a remote shell: values and appended options are quoted",
          arguments: ["/usr/bin/timeout 60 ssh -o BatchMode=yes {host} /opt/plugin-worker",
                      "/usr/bin/env ssh {host} /opt/plugin-worker",
                      "/usr/bin/sshpass -e /usr/bin/ssh {host} /opt/plugin-worker"])
    func wrappedSSH(template: String) throws {
        let launcher = try WorkerLauncher(template: template)
        #expect(launcher.shell == .remote)
        let plugin = #"/b/p&touch pwned&x; $(id) it's/lib "X".so"#
        let argv = launcher.command(host: "node7", pluginPath: plugin, workerName: "x:0:1", workerOptions: [])
        let host = try #require(argv.firstIndex(of: "node7"))
        let remoteLine = argv[(host + 1)...].joined(separator: " ")
        #expect(try wordsReadByShell(remoteLine) == ["/opt/plugin-worker", "--plugin", plugin, "--name", "x:0:1"],
                "\(remoteLine)")
    }

    @Test("ssh through a wrapper with no {host}: the words after ssh are the remote command")
    func wrappedSSHWithoutHostPlaceholder() throws {
        let launcher = try WorkerLauncher(template: "/usr/bin/timeout 60 ssh node1 /opt/plugin-worker")
        #expect(launcher.shell == .remote)
        let argv = launcher.command(host: "", pluginPath: "/p q/lib.so", workerName: "x:0:1", workerOptions: [])
        #expect(argv == ["/usr/bin/timeout", "60", "ssh", "node1", "/opt/plugin-worker", "--plugin", "'/p q/lib.so'",
                         "--name", "x:0:1"])
    }

    @Test("a word after {host} that happens to be ssh does not make a direct launcher remote")
    func sshAfterHostIsNotTheLauncher() throws {
        let launcher = try WorkerLauncher(template: "/usr/bin/srun -w {host} ssh")
        #expect(launcher.shell == WorkerLauncher.Shell.none)
    }
}
