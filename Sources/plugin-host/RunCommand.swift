import ArgumentParser
import PluginHost

#if canImport(Glibc)
import Glibc
#endif

/// `plugin-host run`: runs one task kind (or several, from a job file) to completion.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a task kind to completion.",
        discussion: """
            Exit status: 0 when every task is done, 1 when some task failed, expired or was \
            cancelled, 2 on a usage or set-up error, 128+N after signal N: 130 when interrupted by \
            SIGINT, 143 when drained by SIGTERM (138 by --drain-signal USR1). SIGTERM drains: no \
            task starts any more, running tasks get --drain-timeout seconds to finish, the others \
            end cancelled ("drained"); a second signal stops at once. A run stopped by --halt exits \
            1 if some task failed, expired or was cancelled before the halt, else 0.
            """
    )

    @OptionGroup var search: SearchOptions

    @Option(name: [.short, .customLong("jobs")], help: "Worker processes at once, shared by every task kind (default: cores, or the hosts file's slots).")
    var jobs: Int?

    @Option(help: "Time limit per task attempt, in seconds.")
    var timeout: Double?

    @Option(help: "Retries of a task whose worker died or expired.")
    var retries: Int = 1

    @Option(help: ArgumentHelp("Stop early on the tasks' outcomes, as GNU parallel: now or soon, then fail, success or done, then =N or =P% (e.g. now,fail=1, soon,fail=10%).",
                               discussion: "now cancels the running tasks, soon lets them finish; either way the tasks not run end cancelled (\"halted\").",
                               valueName: "when,why=N|P%"))
    var halt: String?

    @Option(name: .customLong("drain-timeout"),
            help: ArgumentHelp("Seconds the running tasks get to finish after SIGTERM (or --drain-signal) before they are cancelled.",
                               valueName: "seconds"))
    var drainTimeout: Double = 10

    @Option(name: .customLong("drain-signal"),
            help: ArgumentHelp("Another signal that drains the run as SIGTERM does, e.g. USR1 for Slurm's --signal=B:USR1@120.",
                               valueName: "signal"))
    var drainSignal: String?

    @Option(name: .customLong("max-jobs-per-worker"), help: "Recycle a worker after this many jobs.")
    var maxJobsPerWorker: Int?

    @Option(name: .customLong("max-worker-rss"), help: "Recycle a worker whose resident memory exceeds this many MiB between jobs; kill it (its task lost, retried) when it does during a job.")
    var maxWorkerRSS: Int?

    @Option(name: .customLong("worker-memory"),
            help: ArgumentHelp("A hard memory limit per worker on this machine, in MiB: a worker whose allocation fails under it dies 'out of memory' (its task retried up to --oom-retries times).",
                               valueName: "MB"))
    var workerMemory: Int?

    @Option(name: .customLong("oom-retries"), help: "Retries of a task whose worker ran out of memory (apart from --retries).")
    var oomRetries: Int = 1

    @Option(help: ArgumentHelp("Start no worker while the memory available is below SIZE; under half of it, kill the youngest running task and queue it again (not counted as a failure).",
                               discussion: "SIZE in bytes, or with K, M, G, T (powers of 1024) or k, m, g, t (powers of 1000), as GNU parallel's --memfree.",
                               valueName: "size"))
    var memfree: String?

    @Option(help: "Override the plugin's default worker policy: one-shot or persistent.")
    var policy: String?

    @Option(help: ArgumentHelp("Write every task and worker event to this file as JSON Lines ('-': standard output, before the plugin's report).",
                               valueName: "file"))
    var events: String?

    @Option(help: ArgumentHelp("Write the run as a Chrome trace (Perfetto, chrome://tracing): a track per worker slot, a slice per task attempt.",
                               valueName: "file"))
    var trace: String?

    @Option(help: ArgumentHelp("Keep each task attempt's worker output in DIR/KIND/TASK/attempt-N.stderr, its outcome in DIR/KIND/TASK/outcome, every task in DIR/tasks.jsonl.",
                               valueName: "dir"))
    var results: String?

    @Flag(name: .shortAndLong, help: "Also show the plugins' info log lines (--log-level info).")
    var verbose = false

    @Option(name: .customLong("log-level"),
            help: ArgumentHelp("The least level of plugin log line shown on stderr: debug, info, warning or error (default: warning, or info with -v).",
                               valueName: "level"))
    var logLevel: String?

    @Flag(inversion: .prefixedNo, help: "Show a live progress line (default: when stderr is a terminal).")
    var progress: Bool?

    @Flag(help: "Print only the plugin's report and errors.")
    var quiet = false

    @Flag(inversion: .prefixedNo, help: "Run each worker slot (its master thread and workers) on a core of its own when -j is between 2 and the number of cores.")
    var pin = true

    @Flag(inversion: .prefixedNo, help: "Put each worker in a cgroup of its own (where cgroup v2 is writable), so that whatever it starts, even in a new session, is killed with it.")
    var workerCgroups = true

    @Flag(name: .customLong("no-agent"), help: "Run the launcher once per worker, instead of once per host for a worker agent that forks that host's workers and carries them all over one connection.")
    var noAgent = false

    @Flag(inversion: .prefixedNo, help: "Fork this machine's fresh workers from a warm plugin-worker that loaded the plugin once, each slot's next worker forked ahead of need (--no-fork-server: exec plugin-worker for each worker). A plugin that cannot be forked gets exec'd workers either way.")
    var forkServer = true

    @Option(name: .customLong("job-file"), help: "Run several task kinds at once: one 'PLUGIN [--policy P] ARGS...' per line.")
    var jobFile: String?

    @Option(help: ArgumentHelp("Start workers with this command instead of spawning plugin-worker here.",
                               discussion: "Placeholders: {host}, {plugin}, {plugin-file}, {worker}; e.g. 'ssh -o BatchMode=yes {host} plugin-worker'. "
                                   + "Through a remote shell (see --launcher-shell), values after {host} and the appended options are quoted for it.",
                               valueName: "template"))
    var launcher: String?

    @Option(name: .customLong("launcher-shell"),
            help: ArgumentHelp("Whether the launcher's command goes through a shell on the other side, so values are quoted for it: remote or none.",
                               discussion: "Default: remote for ssh, autossh, rsh and dbclient, none for other launchers (srun, env...).",
                               valueName: "remote|none"))
    var launcherShell: String?

    @Option(help: ArgumentHelp("Spread workers over these hosts: one 'HOST [SLOTS]' per line; ':' is this machine.",
                               valueName: "file"))
    var hosts: String?

    @Option(help: ArgumentHelp("Seconds between heartbeats with launched workers (default 2; 0 turns them off).",
                               valueName: "seconds"))
    var heartbeat: Double?

    @Option(help: ArgumentHelp("Journal the run to this new file: each task's end as it happens, so that --resume can finish the run if the host dies.",
                               valueName: "file"))
    var journal: String?

    @Option(help: ArgumentHelp("Finish the run this journal records: the same command, with its ended tasks replayed instead of run; appends to the journal.",
                               valueName: "file"))
    var resume: String?

    @Flag(name: .customLong("resume-failed"), help: "With --resume, run again the tasks the journal records as failed or expired.")
    var resumeFailed = false

    @Option(help: "Path of the plugin-worker executable (default: beside plugin-host).")
    var worker: String?

    @Argument(help: "The plugin: a name on the search path or a path to a .so.", completion: .pluginNames)
    var plugin: String?

    @Argument(parsing: .captureForPassthrough,
              help: "The plugin's own arguments: everything after the plugin name, host options included (put those before it).")
    var pluginArguments: [String] = []

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("-j/--jobs must be at least 1") }
        if let heartbeat, !(heartbeat >= 0) { throw ValidationError("--heartbeat must be 0 or a positive number of seconds") }
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if !(drainTimeout >= 0) || drainTimeout > 1e9 { throw ValidationError("--drain-timeout must be 0 or a positive number of seconds") }
        if let drainSignal, DrainSignal.parse(drainSignal) == nil {
            throw ValidationError("--drain-signal takes one of \(DrainSignal.allowedNames) (with or without SIG, or its number), not '\(drainSignal)'")
        }
        if let halt {
            do { _ = try HaltPolicy.parse(halt) } catch { throw ValidationError(error.description) }
        }
        if let maxJobsPerWorker, maxJobsPerWorker < 1 { throw ValidationError("--max-jobs-per-worker must be at least 1") }
        if let maxWorkerRSS, maxWorkerRSS < 1 { throw ValidationError("--max-worker-rss must be at least 1 (MiB)") }
        if let workerMemory, workerMemory < 1 || workerMemory > 1 << 40 {
            throw ValidationError("--worker-memory must be a number of MiB from 1 to \(1 << 40)")
        }
        if let memfree, (MemorySize.bytes(memfree) ?? 0) < 1 {
            throw ValidationError("--memfree takes a size: bytes, or a number with K, M, G, T (1024s) or k, m, g, t (1000s), e.g. 2G")
        }
        guard oomRetries >= 0 else { throw ValidationError("--oom-retries must be 0 or more") }
        if let policy, WorkerPolicy(rawValue: policy) == nil { throw ValidationError("--policy takes one-shot or persistent") }
        if let logLevel, LogLevel(logLevel) == nil { throw ValidationError("--log-level takes debug, info, warning or error") }
        if let launcherShell, WorkerLauncher.Shell(rawValue: launcherShell) == nil {
            throw ValidationError("--launcher-shell takes remote or none")
        }
        if launcherShell != nil && launcher == nil { throw ValidationError("--launcher-shell needs a --launcher") }
        if plugin == nil && jobFile == nil { throw ValidationError("name a plugin, or give --job-file") }
        if plugin != nil && jobFile != nil { throw ValidationError("give a plugin or --job-file, not both") }
        if journal != nil && resume != nil { throw ValidationError("give --journal FILE to start a journal or --resume FILE to continue one, not both") }
        if resumeFailed && resume == nil { throw ValidationError("--resume-failed needs --resume FILE") }
    }

    func run() throws {
        var configuration = HostConfiguration(jobs: jobs ?? HostConfiguration.defaultJobs, timeout: timeout, retries: retries,
                                              maxJobsPerWorker: maxJobsPerWorker,
                                              maxWorkerRSSBytes: maxWorkerRSS.map { $0 << 20 })
        if let worker { configuration.workerExecutable = worker }
        configuration.workerMemoryBytes = workerMemory.map { $0 << 20 }
        configuration.oomRetries = oomRetries
        configuration.memfreeBytes = memfree.flatMap(MemorySize.bytes)
        do {
            configuration.jobserver = try MakeJobserver.fromMakeflags(getenv("MAKEFLAGS").map { String(cString: $0) })
        } catch {
            printLine("plugin-host: warning: \(error.description); going on without make's jobserver", toStandardError: true)
        }
        configuration.pinsSlotsToCores = pin
        configuration.halt = halt.flatMap { try? HaltPolicy.parse($0) }
        configuration.usesWorkerCgroups = workerCgroups
        configuration.usesForkServer = forkServer
        configuration.usesAgents = !noAgent
        configuration.drainsWorkerStderrBeforeAnswers = results != nil
        configuration.printedLogLevel = logLevel.flatMap(LogLevel.init)?.rawValue ?? (verbose ? LogLevel.info.rawValue : LogLevel.warning.rawValue)
        do { try configurePlacement(&configuration) } catch { fail(error.description) }
        do { try HostConfiguration.checkJobs(configuration.jobs) } catch { fail(error.description) }
        do { try configuration.checkWorkerExecutable() } catch { fail(error.description) }
        let run = PluginRun(configuration: configuration)
        let console = Console()
        run.redirectWorkerStandardError { console.message($0) }
        if let plugin { MisplacedOptions.warn(pluginArguments, plugin: plugin) }
        // Installed before the kinds open: a kind's set-up (ProofCheck parsing a large database)
        // can take a while, and Ctrl-C then must end the host cleanly too.
        let interruption = InterruptionHandler(run: run, drainSignals: [SIGTERM] + (drainSignal.flatMap(DrainSignal.parse).map { [$0] } ?? []),
                                               drainTimeout: drainTimeout, console: quiet ? nil : console)
        let catalog = search.catalog(probeExecutable: configuration.workerExecutable)
        let entries: [JobFile.Entry]
        do { entries = try kindEntries() } catch { fail(error.description) }
        // A job file's problem names its line.
        func failing(_ entry: JobFile.Entry, _ error: HostError) -> Never {
            fail(jobFile.map { "\($0):\(entry.line): \(error.description)" } ?? error.description)
        }
        var libraries: [PluginLibrary] = []
        for entry in entries {
            do { libraries.append(try catalog.load(entry.plugin, warning: warn)) } catch { failing(entry, error) }
        }
        // Before any kind opens (a kind may open its own outputs) and before --events exists.
        do { try outputGuard(entries: entries, libraries: libraries).check() } catch { fail(error.description) }
        for (entry, library) in zip(entries, libraries) {
            do { try run.addKind(library, arguments: entry.arguments, policy: entry.policy) } catch { failing(entry, error) }
        }
        if let options = journalOptions() {
            do { try run.openJournal(options) } catch { fail(error.description) }
        }

        var eventsFile: EventsFileWriter?
        if let events {
            do {
                eventsFile = EventsFileWriter(output: try events == "-" ? OutputFile(standardOutputFor: "--events")
                                                                        : OutputFile(path: events, option: "--events"))
            } catch { fail(error.description) }
            run.observe { [eventsFile] in eventsFile?.record($0) }
        }
        var traceFile: TraceFile?
        if let trace {
            do { traceFile = TraceFile(output: try OutputFile(path: trace, option: "--trace")) } catch { fail(error.description) }
            run.observe(TraceFile.categories) { [traceFile] in traceFile?.record($0) }
        }
        var taskResults: TaskResults?
        if let results {
            do { taskResults = try TaskResults(directory: results) } catch { fail(error.description) }
            run.observe(TaskResults.categories) { [taskResults] in taskResults?.record($0) }
            // Kept in the files, the worker lines still reach the terminal unless --quiet.
            run.redirectWorkerStandardError { [taskResults, quiet] line in
                if taskResults?.workerLine(line) == true && quiet { return }
                console.message(line)
            }
        }
        let reportsFailures = !quiet
        run.observe(.taskFailures) { event in
            guard reportsFailures, case .taskEnded(let id, let kind, let outcome, let message) = event.kind,
                  outcome == .failed || outcome == .expired else { return }
            let name = event.taskName.map { " (\($0))" } ?? ""
            console.message("plugin-host: \(kind) task \(id)\(name) \(outcome.rawValue): \(message ?? "")")
        }

        let showProgress = !quiet && (progress ?? isTerminal(2))
        let display = showProgress ? ProgressDisplay(run: run, console: console) : nil
        if let workerMemory, !quiet {
            printLine("plugin-host: workers limited to \(workerMemory) MiB each (\(configuration.workerMemoryMechanism))", toStandardError: true)
        }
        interruption.runStarting()
        run.start()
        display?.start()
        let report = run.waitUntilFinished()
        display?.stop()
        let outputFailures = [eventsFile?.finish(), traceFile?.finish(), taskResults?.finish()].compactMap { $0 }

        for (_, text) in report.pluginReports where !text.isEmpty {
            printLine(text.hasSuffix("\n") ? String(text.dropLast()) : text)
        }
        for error in report.setupErrors { printLine("plugin-host: error: \(error)", toStandardError: true) }
        for failure in outputFailures { printLine("plugin-host: error: \(failure)", toStandardError: true) }
        if !quiet { printLine(summary(report), toStandardError: true) }
        if let signal = interruption.received { exitProcess(128 + signal) }
        exitProcess(outputFailures.isEmpty ? report.exitStatus : 2)
    }

    /// The run's outputs against every file its arguments name (see ``OutputGuard``).
    private func outputGuard(entries: [JobFile.Entry], libraries: [PluginLibrary]) -> OutputGuard {
        var check = OutputGuard()
        for (entry, library) in zip(entries, libraries) {
            check.addInput(library.path)
            check.addInputs(namedIn: entry.arguments)
        }
        for file in [jobFile, hosts, worker].compactMap({ $0 }) { check.addInput(file) }
        check.addStandardInput()
        if let events, events != "-" { check.addOutput(events, option: "--events") }
        if let path = journal ?? resume { check.addOutput(path, option: journal != nil ? "--journal" : "--resume") }
        if let trace { check.addOutput(trace, option: "--trace") }
        return check
    }

    /// `--journal` / `--resume`: the journal, with the job file's text as part of the run's identity.
    private func journalOptions() -> JournalOptions? {
        guard let path = journal ?? resume else { return nil }
        var identity: [(name: String, value: String)] = []
        if let jobFile, let text = try? String(contentsOfFile: jobFile, encoding: .utf8) {
            identity.append(("job file", JournalOptions.digest(Array(text.utf8))))
        }
        return JournalOptions(path: path, resumes: resume != nil, rerunsFailed: resumeFailed, identity: identity)
    }

    /// `--launcher`, `--hosts` and `--heartbeat`: where workers run and how they are started.
    private func configurePlacement(_ configuration: inout HostConfiguration) throws(HostError) {
        if let launcher {
            configuration.launcher = try WorkerLauncher(template: launcher, shell: launcherShell.flatMap(WorkerLauncher.Shell.init(rawValue:)))
        }
        configuration.heartbeatInterval = heartbeat
        guard let hosts else { return }
        guard let text = try? String(contentsOfFile: hosts, encoding: .utf8) else {
            throw .usage("\(hosts): cannot read the hosts file")
        }
        let parsed = try WorkerHost.parseHostsFile(text, path: hosts)
        if configuration.launcher == nil, let remote = parsed.first(where: { !$0.isLocal }) {
            throw .usage("\(hosts): host \(remote.name) needs a --launcher (e.g. 'ssh -o BatchMode=yes {host} plugin-worker')")
        }
        configuration.hosts = parsed
        let slots = parsed.reduce(0) { $0 + $1.slots }
        configuration.jobs = min(jobs ?? slots, slots)
    }

    private func kindEntries() throws(HostError) -> [JobFile.Entry] {
        if let jobFile {
            guard let text = try? String(contentsOfFile: jobFile, encoding: .utf8) else {
                throw .usage("\(jobFile): cannot read the job file")
            }
            return try JobFile.parse(text, path: jobFile).entries
        }
        return [JobFile.Entry(plugin: plugin!, policy: policy.flatMap(WorkerPolicy.init(rawValue:)),
                              arguments: pluginArguments, line: 0)]
    }

    private func summary(_ report: RunReport) -> String {
        let c = report.counts
        var parts = [HumanUnits.counted(c.total, "task"), "\(c.done) done"]
        for outcome in [TaskOutcome.failed, .expired, .cancelled, .skipped] where c[outcome] > 0 {
            parts.append("\(c[outcome]) \(outcome.rawValue)")
        }
        let seconds = (report.elapsed * 1000).rounded() / 1000
        return "plugin-host: " + parts.joined(separator: ", ")
            + " in \(seconds) s, \(HumanUnits.counted(report.workersStarted, "worker")) started"
            + (report.workersOutOfMemory > 0 ? ", \(report.workersOutOfMemory) out of memory" : "")
            + (report.interrupted ? " (interrupted)" : report.stop.map { " (\($0.rawValue))" } ?? "")
    }
}
