import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The library checks the worker executable as the command line does: a worker that cannot be
/// executed is a usage error from `addKind`, before the kind is opened and any task queued.
@Suite struct WorkerExecutableCheckTests {
    enum Unusable: CaseIterable { case missing, notExecutable, directory }

    @Test("a missing, non-executable or directory worker: one usage error from addKind, nothing queued",
          arguments: Unusable.allCases, [false, true])
    func unusableWorker(_ unusable: Unusable, forkServer: Bool) throws {
        let directory = TemporaryDirectory()
        let path: String
        switch unusable {
        case .missing: path = directory.file("plugin-worker")
        case .notExecutable:
            path = directory.write("plugin-worker", "#!/bin/sh\n")
            #expect(chmod(path, 0o644) == 0)
        case .directory: path = directory.path
        }
        let run = PluginRun(configuration: .test(jobs: 1, workerExecutable: path, forkServer: forkServer))
        let log = EventLog()
        run.observe { log.record(.event($0)) }
        let error = #expect(throws: HostError.self) { try run.addKind(Chaos.library, arguments: ["echo:a", "echo:b"]) }
        #expect(error?.description == "\(path): worker executable not found or not executable")
        #expect(run.progress.queued == 0, "the kind was opened: its tasks were queued")
        #expect(log.events.isEmpty)
    }

    @Test("through worker agents too: a ':' line needs the worker here, launched hosts alone do not")
    func agents() throws {
        var configuration = HostConfiguration.test(jobs: 2, workerExecutable: "/nonexistent/plugin-worker", forkServer: false)
        configuration.launcher = try WorkerLauncher(template: "/usr/bin/env {host}")
        #expect(configuration.usesAgents && configuration.launcher?.startsAgents == true)
        configuration.hosts = [WorkerHost(name: WorkerHost.localName, slots: 1), WorkerHost(name: "node1", slots: 1)]
        #expect(throws: HostError.self) { try PluginRun(configuration: configuration).addKind(Chaos.library, arguments: ["echo:a"]) }
        configuration.hosts.removeFirst()
        try PluginRun(configuration: configuration).addKind(Chaos.library, arguments: ["echo:a"])
    }

    @Test func theCheckPassesForTheBuiltWorker() throws {
        try HostConfiguration.test().checkWorkerExecutable()
    }

    @Test func workersOnlyOnOtherMachinesNeedNoWorkerHere() throws {
        var configuration = HostConfiguration.test(jobs: 1, workerExecutable: "/nonexistent/plugin-worker")
        configuration.launcher = try WorkerLauncher(template: "/bin/sh -c {worker}")
        #expect(!configuration.spawnsWorkersHere)
        configuration.hosts = [WorkerHost(name: "node1", slots: 1)]
        #expect(!configuration.spawnsWorkersHere)
        configuration.hosts.append(WorkerHost(name: WorkerHost.localName, slots: 1))
        #expect(configuration.spawnsWorkersHere, "a ':' line spawns workers here")
        configuration.hosts = []
        configuration.launcher = nil
        #expect(configuration.spawnsWorkersHere)
    }
}
