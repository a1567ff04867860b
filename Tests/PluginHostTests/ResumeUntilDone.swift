import TestSupport
import Testing

/// A journaled command run, then resumed while it is killed: what the journal tests compare.
struct ResumeUntilDone {
    /// The run that ended by itself (nil if every run was killed).
    var final: CLIResult?
    /// Runs that ended by a signal.
    var kills = 0
    /// Tasks started over all runs, from their --events files (killed runs lose buffered lines).
    var started = 0

    /// Runs `plugin-host run OPTIONS --journal JOURNAL ARGUMENTS`, then `--resume JOURNAL`,
    /// at most `runs` times, until a run is not ended by a signal.
    init(_ options: [String], journal: String, _ arguments: [String], in directory: TemporaryDirectory, runs: Int) async throws {
        for run in 0..<runs {
            let events = directory.file("events\(run)")
            let result = try await HostProcess.run(["run"] + options + ["--events", events, run == 0 ? "--journal" : "--resume", journal]
                                                   + arguments)
            started += Self.startedTasks(events)
            if !result.signalled {
                final = result
                return
            }
            kills += 1
        }
    }

    /// Tasks started in the run whose --events file is `events`.
    static func startedTasks(_ events: String) -> Int {
        String(decoding: ProcessProbe.readFile(events) ?? [], as: UTF8.self).split(separator: "\n")
            .filter { $0.contains("\"task-started\"") }.count
    }
}
