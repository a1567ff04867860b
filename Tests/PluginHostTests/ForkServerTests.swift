// Workers forked by a fork server (the default for local workers): what is particular to them.
// Every engine rule is checked through fork servers by the suites' default configuration, and
// with exec'd workers by `make test`'s second pass (PLUGIN_HOST_TEST_EXEC_WORKERS=1).
import Foundation
import PluginHost
import PluginProtocol
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Fork server")
struct ForkServerTests {
    /// Waits (bounded) until `condition` holds; false if it never did.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test("one fork server per plugin and slot core forks all its workers (two kinds of one plugin share it), each a fresh process")
    func oneServerPerKind() async throws {
        let test = TestRun(.test(jobs: 2, forkServer: true, agent: false))
        try test.addChaos((1...6).map { "echo:a\($0)" }, policy: .oneShot)
        try test.addChaos((1...3).map { "echo:b\($0)" }, policy: .persistent)
        // Each worker's parent, read when it says hello (it lives then).
        let parents = Mutex<[String: Int32]>([:])
        test.run.observe(.workers) { event in
            if case .workerStarted(let name, let pid, _) = event.kind, let parent = ProcessProbe.parent(of: pid) {
                parents.withLock { $0[name] = parent }
            }
        }
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 9)
        let oneShotPids = Set(report.results.filter { $0.response?.result.hasPrefix("a") == true }.compactMap { $0.response?.pid })
        #expect(oneShotPids.count == 6, "one fresh process per one-shot task")
        let seen = parents.withLock { $0 }
        let byKind = Dictionary(grouping: seen) { $0.key.split(separator: ":").first.map(String.init) ?? "" }
            .mapValues { Set($0.map(\.value)) }
        #expect(byKind.count == 2, "\(byKind)")
        // A server per core of pinned slots (one for both slots when they are not pinned): the
        // workers of one slot, of both kinds, come from one server.
        let bySlot = Dictionary(grouping: seen) { $0.key.split(separator: ":").dropFirst().first.map(String.init) ?? "" }
            .mapValues { Set($0.map(\.value)) }
        #expect(bySlot.values.allSatisfy { $0.count == 1 }, "one server per slot for the plugin: \(bySlot)")
        let servers = Set(byKind.values.flatMap { $0 })
        #expect((1...2).contains(servers.count) && !servers.contains(getpid()), "\(byKind)")
    }

    /// The cgroup v2 path of `pid` ("0::PATH" of /proc/PID/cgroup), nil if unreadable.
    static func cgroup(of pid: Int32) -> String? {
        guard let bytes = ProcessProbe.readFile("/proc/\(pid)/cgroup") else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("0::") }
            .map { String($0.dropFirst(3)) }
    }

    /// A forked worker writes itself into its cgroup first thing, through the `cgroup.procs` its
    /// server keeps open for each (reused) worker cgroup.
    @Test("each forked worker is in a cgroup of its own, also when its cgroup is a reused one")
    func forkedWorkersJoinTheirCgroups() async throws {
        let test = TestRun(.test(jobs: 2, forkServer: true, agent: false))
        // Six one-shot workers end first: the two that hang get reused cgroups.
        try test.addChaos((1...6).map { "echo:\($0)" } + ["hang", "hang"], policy: .oneShot)
        test.start()
        _ = await test.log.waitForStart(of: 7)
        _ = await test.log.waitForStart(of: 8)
        let hanging = [UInt64(7), 8].compactMap { test.log.workers(of: $0).last.flatMap(test.log.pid(of:)) }
        try #require(hanging.count == 2)
        let groups = hanging.map(Self.cgroup(of:))
        let server = try #require(ProcessProbe.parent(of: hanging[0]))
        let serverGroup = Self.cgroup(of: server)
        test.run.cancelAll()
        _ = try await test.finish()
        if serverGroup?.contains("/plugin-host.\(getpid()).") == true {
            // Cgroups are made here: each worker has its own, apart from its server's.
            #expect(Set(groups).count == 2 && !groups.contains(serverGroup), "\(groups) server \(serverGroup ?? "?")")
            for group in groups {
                #expect(group?.contains("/plugin-host.\(getpid()).") == true && group?.split(separator: "/").last?.hasPrefix("w") == true,
                        "\(group ?? "?")")
            }
        } else {
            #expect(groups.allSatisfy { $0 == serverGroup }, "no worker cgroups here: \(groups)")
        }
    }

    @Test("a forked worker's parent is its kind's fork server, and its command line names it")
    func forkedWorkersAreNamed() async throws {
        let test = TestRun(.test(jobs: 2, forkServer: true, agent: false))
        try test.addChaos(["hang", "hang"])
        test.start()
        _ = await test.log.waitForStart(of: 1)
        _ = await test.log.waitForStart(of: 2)
        var servers: Set<Int32> = []
        for started in test.log.workersStarted {
            let server = try #require(ProcessProbe.parent(of: started.pid))
            servers.insert(server)
            #expect(ProcessProbe.parent(of: server) == getpid(), "the fork server is this host's child")
            #expect(ProcessProbe.commandLine(of: server)?.contains("--fork-server") == true)
            #expect(ProcessProbe.isAlive(pid: started.pid, name: started.name), "\(started.name) is named on its command line")
            #expect(ProcessProbe.processGroup(of: started.pid) == started.pid, "in a process group of its own")
        }
        test.run.cancelAll()
        _ = try await test.finish()
        for server in servers {
            #expect(try await Self.eventually { ProcessProbe.state(of: server) == nil }, "the fork server ended with the run")
        }
    }

    @Test("kill -9 of the fork server: its workers die with it, their tasks are retried on a new server's workers")
    func serverKilled() async throws {
        // Task 1 sleeps on its first worker; once the server is killed it is retried (and then
        // cancelled, since it would sleep again).
        let test = try TestRun(chaos: ["sleep:600000", "echo:b"], policy: .persistent,
                               .test(jobs: 1, retries: 1, forkServer: true, agent: false))
        test.start()
        let worker = try #require(await test.log.waitForStart(of: 1)).worker
        let pid = try #require(test.log.pid(of: worker))
        let server = try #require(ProcessProbe.parent(of: pid))
        #expect(ProcessProbe.commandLine(of: server)?.contains("--fork-server") == true)
        kill(server, SIGKILL)
        // The worker dies with its server; the retry goes to a new server's worker.
        let retried = try #require(await test.log.waitForStart(of: 1, attempt: 2)).worker
        #expect(retried != worker)
        let newServer = try #require(test.log.pid(of: retried).flatMap(ProcessProbe.parent(of:)))
        #expect(newServer != server)
        #expect(test.log.retries.first?.reason.contains("was killed by signal 9 (SIGKILL)") == true,
                "retries: \(test.log.retries)")
        #expect(test.run.cancel(task: 1))
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled)
        #expect(try report.result(2).outcome == .done)
        #expect(!ProcessProbe.isAlive(pid: pid, name: worker))
        #expect(try await Self.eventually { ProcessProbe.state(of: newServer) == nil })
    }

    @Test("a fork server that cannot start: one line naming the cause, the tasks fail, exit status 2",
          arguments: [nil, "/bin/false"])
    func serverCannotStart(executable: String?) async throws {
        // nil: an executable gone between the check as the kind is added and the server's start.
        let vanishing = executable == nil ? VanishingWorker() : nil
        let path = executable ?? vanishing!.path
        let cause = executable == nil ? "\(path): No such file or directory" : "exited with status 1"
        let test = try TestRun(chaos: ["echo:a", "echo:b"],
                               .test(jobs: 2, workerExecutable: path, forkServer: true, agent: false))
        vanishing?.remove()
        let report = try await test.startAndFinish()
        #expect(report.counts.failed == 2)
        #expect(report.setupErrors.count == 1)
        #expect(report.setupErrors.first?.contains(cause) == true, "setup errors: \(report.setupErrors)")
        #expect(report.exitStatus == 2)
    }

    @Test("a plugin that starts a thread while it loads gets exec'd workers: its fork server refuses it, nothing fails")
    func pluginWithThreads() async throws {
        // Its constructor starts a thread only in a fork server, so this test process stays as it was.
        let directory = TemporaryDirectory()
        let library = try Self.plugin(named: "threaded", extra: """
            #include <pthread.h>
            \(Self.inForkServer)
            static void *idle(void *unused) { (void)unused; for (;;) pause(); return NULL; }
            __attribute__((constructor)) static void start(void) {
                pthread_t thread;
                if (in_fork_server()) pthread_create(&thread, NULL, idle, NULL);
            }
            """, in: directory)
        let test = TestRun(.test(jobs: 1, forkServer: true, agent: false))
        try test.run.addKind(try PluginLibrary(path: library), arguments: ["a", "b"], policy: .oneShot)
        let parents = Mutex<Set<Int32>>([])
        test.run.observe(.workers) { event in
            if case .workerStarted(_, let pid, _) = event.kind, let parent = ProcessProbe.parent(of: pid) {
                parents.withLock { _ = $0.insert(parent) }
            }
        }
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        #expect(report.setupErrors.isEmpty, "\(report.setupErrors)")
        #expect(parents.withLock { $0 } == [getpid()], "spawned by the host itself, not forked by a server")
    }

    /// A one-slot run of `hang` then `echo:b`, once its first worker runs `hang` and the slot's
    /// spare waits beside it: the run, the fork server and the spare's pid.
    static func runWithASpare() async throws -> (TestRun, server: Int32, spare: Int32) {
        let test = try TestRun(chaos: ["hang", "echo:b"], policy: .oneShot, .test(jobs: 1, forkServer: true, agent: false))
        test.start()
        let first = try #require(await test.log.waitForStart(of: 1)).worker
        let server = try #require(test.log.pid(of: first).flatMap { ProcessProbe.parent(of: $0) })
        var spares: [Int32] = []
        #expect(try await Self.eventually {
            spares = ProcessProbe.children(of: server, containing: "--spare")
            return spares.count == 1
        }, "one spare for the one slot")
        return (test, server, try #require(spares.first))
    }

    @Test("a spare killed before it is used: the slot forks a fresh worker instead and the run ends",
          .timeLimit(.minutes(1)))
    func killedSpareIsReplaced() async throws {
        let (test, _, spare) = try await Self.runWithASpare()
        // (Its server reaps it only when the master asks, so the pid cannot be reused meanwhile.)
        #expect(Glibc.kill(spare, SIGKILL) == 0)
        #expect(try await Self.eventually { ProcessProbe.state(of: spare) == "Z" }, "the spare died")
        #expect(test.run.cancel(task: 1))
        let second = try #require(await test.log.waitForStart(of: 2)).worker
        #expect(test.log.pid(of: second) != spare, "a new worker, not the dead spare")
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled)
        #expect(try report.result(2).outcome == .done)
        #expect(try await Self.eventually { ProcessProbe.state(of: spare) == nil }, "the dead spare was reaped")
    }

    @Test("each slot's next worker is forked ahead (a spare, no plugin code run yet) and handed over when needed")
    func spareIsHandedOver() async throws {
        let (test, server, spare) = try await Self.runWithASpare()
        #expect(ProcessProbe.commandLine(of: spare)?.contains("--name") == false, "not a worker yet")
        #expect(test.run.cancel(task: 1))
        let second = try #require(await test.log.waitForStart(of: 2)).worker
        #expect(test.log.pid(of: second) == spare, "the spare became the slot's next worker")
        let report = try await test.finish()
        #expect(try report.result(1).outcome == .cancelled)
        #expect(try report.result(2).outcome == .done)
        #expect(try await Self.eventually { ProcessProbe.state(of: server) == nil }, "the server ended with the run")
        #expect(try await Self.eventually { Glibc.kill(spare, 0) != 0 }, "no worker or spare outlives the run")
    }

    @Test("a spare is a fresh worker: state a job leaves in a worker's memory is never seen by the next worker",
          arguments: [WorkerPolicy.oneShot, .persistent])
    func sparesAreFresh(policy: WorkerPolicy) async throws {
        let directory = TemporaryDirectory()
        let traces = directory.file("traces")
        try #require(mkdir(traces, 0o700) == 0)
        // Each perform records how many jobs its process performed before (a static the jobs
        // leak) and how many times worker_init ran in it.
        let library = try Self.plugin(named: "leaky", extra: """
            static int performed, initialised;
            static void *leaky_init(const ph_worker_params *params) { (void)params; initialised++; return NULL; }
            static int leaky_perform(void *w, ph_bytes request, const ph_perform_context *ctx) {
                (void)w;
                char path[4096];
                snprintf(path, sizeof path, "\(traces)/%d.%d.%d", (int)getpid(), performed++, initialised);
                FILE *f = fopen(path, "w");
                if (f) fclose(f);
                ctx->respond(ctx, request.data, request.len);
                return 0;
            }
            """, descriptorFields: ", .worker_init = leaky_init, .perform = leaky_perform", in: directory)
        let test = TestRun(.test(jobs: 2, forkServer: true, agent: false))
        try test.run.addKind(try PluginLibrary(path: library), arguments: (1...8).map { "t\($0)" }, policy: policy)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 8)
        let written = ((try? FileManager.default.contentsOfDirectory(atPath: traces)) ?? []).map { $0.split(separator: ".") }
        #expect(written.count == 8)
        #expect(written.allSatisfy { $0.count == 3 && $0[2] == "1" }, "worker_init once per process: \(written)")
        let byProcess = Dictionary(grouping: written) { $0.first.map(String.init) ?? "" }
        if policy == .oneShot {
            #expect(byProcess.count == 8 && written.allSatisfy { $0[1] == "0" }, "one job per fresh process: \(written)")
        } else {
            #expect(byProcess.count <= 2, "persistent workers keep their state: \(written)")
        }
    }

    /// C: `in_fork_server()` is 1 in a `plugin-worker --fork-server` process (so a test plugin's
    /// constructor can misbehave there only, and leave the test process and the master alone).
    static let inForkServer = """
        static int in_fork_server(void) {
            char line[4096] = {0};
            FILE *f = fopen("/proc/self/cmdline", "r");
            size_t n = f ? fread(line, 1, sizeof line - 1, f) : 0;
            if (f) fclose(f);
            for (size_t i = 0; i < n; i++) if (line[i] == 0) line[i] = ' ';
            return strstr(line, "--fork-server") != NULL;
        }
        """

    /// A minimal complete C plugin (echo), with `extra` C code and `worker` callbacks added to its
    /// descriptor, built in `directory`.
    static func plugin(named name: String, extra: String, descriptorFields: String = "",
                       in directory: TemporaryDirectory) throws -> String {
        try DamagedLibraries.compile("""
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <unistd.h>
            #include "\(MetamathData.packageRoot)/Sources/PluginABI/include/plugin_abi.h"
            \(extra)
            static void *open_master(const ph_master_host *host, const ph_open_params *params, const ph_error_sink *errors) {
                (void)errors;
                for (int i = 1; i < params->argc; i++) host->push_task(host, params->argv[i], strlen(params->argv[i]), 0, 0);
                return (void *)host;
            }
            static ph_request_result request_of_task(void *m, const ph_worker_status *s, ph_bytes task, const ph_request_sink *out) {
                (void)m; (void)s; out->set_request(out, task.data, task.len); return PH_REQUEST_READY;
            }
            static void use_response(void *m, const ph_worker_status *s, ph_bytes t, ph_bytes r, const ph_response_sink *out) {
                (void)m; (void)s; (void)t; (void)r; out->stay(out, "w", 1); out->resolve(out, PH_OUTCOME_DONE, NULL);
            }
            static int perform(void *w, ph_bytes request, const ph_perform_context *ctx) {
                (void)w; ctx->respond(ctx, request.data, request.len); return 0;
            }
            int32_t plugin_host_entry(uint32_t major, uint32_t minor, ph_plugin_descriptor *d) {
                (void)minor;
                *d = (ph_plugin_descriptor){ .abi_major = PH_ABI_VERSION_MAJOR, .abi_minor = PH_ABI_VERSION_MINOR,
                    .name = "\(name)", .version = "1.0", .description = "d", .usage = "u",
                    .default_policy = PH_POLICY_PERSISTENT, .master_open = open_master,
                    .request_of_task = request_of_task, .use_response = use_response, .perform = perform
                    \(descriptorFields) };
                return major == PH_ABI_VERSION_MAJOR ? 0 : 1;
            }
            """, named: "lib\(name).so", in: directory)
    }

    /// A fork server must outlive the slot thread that first needed it: a parent-death signal
    /// fires when the *thread* that spawned a process ends, and slot threads end one by one as a
    /// run drains. Slot 0's worker (whose slot thread started the server) ends at once; the
    /// others take 0.3 s in worker_fini and must finish it.
    @Test("the fork server outlives the slot thread that started it: every worker finishes worker_fini")
    func serverOutlivesItsFirstSlot() async throws {
        let directory = TemporaryDirectory()
        let traces = directory.file("traces")
        try #require(mkdir(traces, 0o700) == 0)
        let library = try Self.plugin(named: "slowfini", extra: """
            static char trace[4096];
            static void *worker_init(const ph_worker_params *params) {
                snprintf(trace, sizeof trace, "\(traces)/%s", params->worker_name);
                return NULL;
            }
            static void worker_fini(void *w) {
                (void)w;
                if (strstr(trace, ":0:") == NULL) usleep(300000);
                FILE *f = fopen(trace, "w");
                if (f) fclose(f);
            }
            """, descriptorFields: ", .worker_init = worker_init, .worker_fini = worker_fini", in: directory)
        let test = TestRun(.test(jobs: 3, killGracePeriod: 10, forkServer: true, agent: false))  // (longer than the fini)
        try test.run.addKind(try PluginLibrary(path: library), arguments: ["a", "b", "c", "d", "e", "f"])
        // Held input: all three workers are idle when the run drains, so all three get worker_fini.
        #expect(test.run.holdInput())
        test.start()
        for task in UInt64(1)...6 { await test.log.waitForEnd(of: task) }
        test.run.releaseInput()
        let report = try await test.finish()
        #expect(report.counts.done == 6)
        let workers = Set(test.log.workersStarted.map(\.name))
        let written = Set((try? FileManager.default.contentsOfDirectory(atPath: traces)) ?? [])
        #expect(written == workers, "workers that finished worker_fini: \(written.sorted()) of \(workers.sorted())")
    }

    /// A spare runs worker_init after its start message and says hello after it, as any worker:
    /// a worker_init that crashes there is a start failure, not a death charged to a task (three
    /// in a row end the kind's start; its tasks fail saying so, none retried).
    @Test("a worker_init that crashes in a handed-over spare is a start failure, as in any worker")
    func workerInitCrashesInSpare() async throws {
        let directory = TemporaryDirectory()
        // One slot: its first worker (forked on demand) starts; every later one is a spare, and crashes.
        let library = try Self.plugin(named: "initcrash", extra: """
            static void *worker_init(const ph_worker_params *params) {
                const char *uid = strrchr(params->worker_name, ':');
                if (uid != NULL && atoi(uid + 1) >= 1) abort();
                return NULL;
            }
            """, descriptorFields: ", .worker_init = worker_init", in: directory)
        let test = TestRun(.test(jobs: 1, retries: 1, forkServer: true, agent: false))
        try test.run.addKind(try PluginLibrary(path: library), arguments: ["a", "b", "c"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.results.count == 3, "every task ended once")
        #expect(report.counts.done == 1 && report.counts.failed == 2, "\(report.results.map { $0.message ?? "-" })")
        for result in report.results where result.outcome == .failed {
            #expect(result.message?.contains("could not be started") == true, "\(result.message ?? "-")")
        }
        #expect(test.log.retries.isEmpty, "no task was charged for the crash: \(test.log.retries)")
    }

    /// A slow worker_init in a spare is not charged to its first task's time limit: the clock
    /// starts when the worker says hello, after worker_init.
    @Test("a spare's slow worker_init does not count against its first task's --timeout")
    func slowWorkerInitInSpare() async throws {
        let directory = TemporaryDirectory()
        let library = try Self.plugin(named: "slowinit", extra: """
            static void *worker_init(const ph_worker_params *params) {
                (void)params;
                usleep(400000);
                return NULL;
            }
            """, descriptorFields: ", .worker_init = worker_init", in: directory)
        let test = TestRun(.test(jobs: 1, timeout: 0.3, retries: 0, forkServer: true, agent: false))
        try test.run.addKind(try PluginLibrary(path: library), arguments: ["a", "b", "c"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 3, "\(report.results.map { $0.message ?? "-" })")
    }

    /// A plugin that registers a pthread_atfork child handler when it loads (in the server) sees
    /// it run in every worker: workers are made by glibc's fork(), handlers and all.
    @Test("a plugin's pthread_atfork child handler runs in every forked worker")
    func atforkHandlersRunInWorkers() async throws {
        let directory = TemporaryDirectory()
        let library = try Self.plugin(named: "atfork", extra: """
            #include <pthread.h>
            static int in_forked_child = 0;
            static void child_handler(void) { in_forked_child = 1; }
            __attribute__((constructor)) static void register_handler(void) { pthread_atfork(NULL, NULL, child_handler); }
            static void *worker_init(const ph_worker_params *params) {
                (void)params;
                if (!in_forked_child) abort();  /* forked without its fork handlers */
                return NULL;
            }
            """, descriptorFields: ", .worker_init = worker_init", in: directory)
        let test = TestRun(.test(jobs: 2, retries: 0, forkServer: true, agent: false))
        try test.run.addKind(try PluginLibrary(path: library), arguments: ["a", "b", "c", "d"], policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 4, "\(report.results.map { $0.message ?? "-" }) \(report.setupErrors)")
    }

    /// Each pinned slot's core gets its own server, and they start at the same time, not one
    /// after the other under one lock: here each server, as it loads the plugin, waits until
    /// every slot's server is loading (a file each in a directory), at most 20 s, and says in a
    /// file whether it saw them all. One at a time, the first would wait out the 20 s alone.
    @Test("the fork servers of pinned slots start at the same time")
    func serversStartTogether() async throws {
        let directory = TemporaryDirectory()
        let meeting = directory.file("meeting")
        try #require(mkdir(meeting, 0o700) == 0)
        let slots = min(2, ProcessInfo.processInfo.activeProcessorCount)
        let library = try Self.plugin(named: "meet", extra: """
            #include <time.h>
            \(Self.inForkServer)
            __attribute__((constructor)) static void meet(void) {
                if (!in_fork_server()) return;
                char path[4096];
                snprintf(path, sizeof path, "\(meeting)/%d", (int)getpid());
                FILE *mine = fopen(path, "w");
                if (mine) fclose(mine);
                int seen = 0;
                for (int waited = 0; waited < 2000 && seen < \(slots); waited++) {
                    seen = 0;
                    FILE *list = popen("ls \(meeting) | grep -c '^[0-9]*$'", "r");
                    if (list) { if (fscanf(list, "%d", &seen) != 1) seen = 0; pclose(list); }
                    if (seen < \(slots)) usleep(10000);
                }
                snprintf(path, sizeof path, "\(meeting)/%s-%d", seen >= \(slots) ? "met" : "alone", (int)getpid());
                FILE *verdict = fopen(path, "w");
                if (verdict) fclose(verdict);
            }
            """, in: directory)
        let test = TestRun(.test(jobs: slots, forkServer: true, agent: false))
        try test.run.addKind(try PluginLibrary(path: library), arguments: (1...4).map { "t\($0)" }, policy: .oneShot)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 4)
        let verdicts = (try? FileManager.default.contentsOfDirectory(atPath: meeting)) ?? []
        #expect(!verdicts.contains { $0.hasPrefix("alone") }, "\(verdicts.sorted())")
        #expect(verdicts.filter { $0.hasPrefix("met") }.count >= 1, "\(verdicts.sorted())")
    }

    @Test("workers forked with heartbeats (--heartbeat on this machine) answer them")
    func forkedWorkersWithHeartbeats() async throws {
        var configuration = HostConfiguration.test(jobs: 1, forkServer: true, agent: false)
        configuration.heartbeatInterval = 0.2
        let test = try TestRun(chaos: ["sleep:1500", "echo:after"], policy: .persistent, configuration)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2, "\(test.log.retries)")
        #expect(test.log.retries.isEmpty && report.workersStarted == 1)
        #expect(!test.log.kinds.contains { if case .hostDown = $0 { true } else { false } })
    }

    @Test("a fork server stuck loading its plugin is killed at the handshake deadline: one line, nothing left")
    func stuckServerIsKilled() async throws {
        let directory = TemporaryDirectory()
        // Its constructor blocks only in a fork server.
        let library = try Self.plugin(named: "stuck", extra: """
            \(Self.inForkServer)
            __attribute__((constructor)) static void block(void) {
                if (in_fork_server()) for (;;) pause();
            }
            """, in: directory)
        var configuration = HostConfiguration.test(jobs: 1, forkServer: true, agent: false)
        configuration.handshakeTimeout = 0.5
        let test = TestRun(configuration)
        try test.run.addKind(try PluginLibrary(path: library), arguments: ["a"])
        let report = try await test.startAndFinish()
        #expect(report.setupErrors.count == 1)
        #expect(report.setupErrors.first?.contains("--fork-server did not load \(library) within 0.5 s") == true,
                "\(report.setupErrors)")
        #expect(try await Self.eventually { ProcessProbe.children(of: getpid(), containing: library).isEmpty },
                "the stuck server was killed and reaped")
    }

    @Test("kill -9 of the master: its fork server and every worker die with it")
    func masterKilled() async throws {
        let host = try HostProcess(["run", "-j", "2", "--fork-server", "--progress", "chaos", "hang", "hang"])
        let running = try await host.waitForStderr(containing: "2/2 workers busy")
        try #require(running, "the hang tasks never showed as running")
        // One server per core of pinned slots, or one for both.
        let servers = ProcessProbe.children(of: host.pid, containing: "--fork-server")
        #expect((1...2).contains(servers.count))
        let workers = servers.flatMap { ProcessProbe.children(of: $0, containing: "--name") }
        #expect(workers.count == 2)
        kill(host.pid, SIGKILL)
        let result = await host.result()
        #expect(result.signalled)
        for pid in servers + workers {
            #expect(try await Self.eventually { Glibc.kill(pid, 0) != 0 }, "pid \(pid) outlived its master")
        }
    }
}
