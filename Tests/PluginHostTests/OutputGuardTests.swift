// Outputs that are inputs (issue 12, defect 2, the host's part): `--events` naming a file the run
// reads (a task file, the database, a job file, standard input), directly or through a symbolic
// or hard link, is refused with one line and exit 2 before anything is written. Before the fix
// the run went ahead and replaced the input with its events, exit 0.
import Foundation
import PluginHost
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Outputs that are inputs")
struct OutputGuardTests {
    /// The same file as `tasks.txt`, named four ways.
    enum Alias: String, CaseIterable {
        case itself, symbolicLink, hardLink, dottedPath
    }

    @Test("--events naming the chaos task file (or a link to it): exit 2, one line, the file untouched",
          arguments: Alias.allCases)
    func eventsOverTaskFile(alias: Alias) async throws {
        let directory = TemporaryDirectory()
        let text = "echo:a\necho:b\n"
        let tasks = directory.write("tasks.txt", text)
        let events: String
        switch alias {
        case .itself: events = tasks
        case .symbolicLink:
            events = directory.file("link.jsonl")
            try #require(symlink(tasks, events) == 0)
        case .hardLink:
            events = directory.file("hard.jsonl")
            try #require(link(tasks, events) == 0)
        case .dottedPath: events = directory.path + "/./tasks.txt"
        }
        let result = try await HostProcess.run(["run", "-j", "1", "--events", events, "chaos", "--file", tasks])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.errorLines == ["plugin-host: error: --events \(events): "
                                          + (alias == .itself ? "is" : "is the same file as")
                                          + " the input \(tasks); refusing to overwrite it"],
                "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(String(decoding: ProcessProbe.readFile(tasks) ?? [], as: UTF8.self) == text)
    }

    @Test("--events naming the database proofcheck is about to read: refused, the database intact")
    func eventsOverDatabase() async throws {
        let directory = TemporaryDirectory()
        let text = try String(contentsOfFile: MetamathData.example, encoding: .utf8)
        let database = directory.write("db.mm", text)
        let result = try await HostProcess.run(["run", "-j", "1", "--events", database, "proofcheck", database])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--events \(database): is the input \(database)"), "stderr: \(result.stderr)")
        #expect(String(decoding: ProcessProbe.readFile(database) ?? [], as: UTF8.self) == text)
    }

    @Test("--events naming the job file, an --option=FILE value or standard input: refused")
    func eventsOverOtherInputs() async throws {
        let directory = TemporaryDirectory()
        let jobs = directory.write("jobs.txt", "chaos echo:a\n")
        let tasks = directory.write("tasks.txt", "echo:a\n")
        let input = directory.write("input.txt", "echo:a\n")
        let cases: [(arguments: [String], input: String?, file: String)] = [
            (["run", "--events", jobs, "--job-file", jobs], nil, jobs),
            (["run", "--events", tasks, "chaos", "--file=" + tasks], nil, tasks),
            (["run", "--events", input, "chaos", "echo:a"], input, input),
        ]
        for (arguments, standardInput, file) in cases {
            let before = ProcessProbe.readFile(file)
            let result = try await HostProcess.run(arguments, standardInput: standardInput)
            #expect(result.status == 2, "\(arguments): stderr: \(result.stderr)")
            #expect(result.errorLines.count == 1, "\(arguments): stderr: \(result.stderr)")
            #expect(result.stderr.contains("refusing to overwrite it"), "\(arguments): stderr: \(result.stderr)")
            #expect(ProcessProbe.readFile(file) == before, "\(file) was written")
        }
    }

    @Test("--events on a new file, or on a device, still works")
    func eventsElsewhere() async throws {
        let directory = TemporaryDirectory()
        let tasks = directory.write("tasks.txt", "echo:a\n")
        let events = directory.file("events.jsonl")
        let result = try await HostProcess.run(["run", "-j", "1", "--events", events, "chaos", "--file", tasks])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(String(decoding: ProcessProbe.readFile(events) ?? [], as: UTF8.self).contains("\"task-ended\""))
        let null = try await HostProcess.run(["run", "-j", "1", "--events", "/dev/null", "chaos", "echo:a"],
                                             standardInput: "/dev/null")
        #expect(null.status == 0, "stderr: \(null.stderr)")
    }

    @Test("OutputGuard: two outputs naming one file are refused, existing or not; devices may repeat")
    func twoOutputs() throws {
        let directory = TemporaryDirectory()
        let existing = directory.write("out.txt", "x")
        var same = OutputGuard()
        same.addOutput(existing, option: "--events")
        same.addOutput(directory.path + "/./out.txt", option: "--trace")
        #expect(throws: HostError.self) { try same.check() }

        let dangling = directory.file("dangling")
        try #require(symlink(directory.file("new.txt"), dangling) == 0)
        var future = OutputGuard()
        future.addOutput(directory.file("new.txt"), option: "--events")
        future.addOutput(dangling, option: "--journal")
        do {
            try future.check()
            Issue.record("a dangling link to another output's future file passed")
        } catch {
            #expect(error.description == "--journal \(dangling) and --events \(directory.file("new.txt")) are the same file")
        }
        #expect(access(directory.file("new.txt"), F_OK) != 0, "the check created a file")

        var devices = OutputGuard()
        devices.addInputs(namedIn: ["/dev/null"])
        devices.addOutput("/dev/null", option: "--events")
        devices.addOutput("/dev/null", option: "--trace")
        try devices.check()

        var distinct = OutputGuard()
        distinct.addInput(existing)
        distinct.addOutput(directory.file("a"), option: "--events")
        distinct.addOutput(directory.file("b"), option: "--trace")
        try distinct.check()
    }
}
