import ArgumentParser
import PluginHost

/// `plugin-host report EVENTS.jsonl -o run.html`: one self-contained HTML page of a run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of a run from its --events file.",
        discussion: """
            Timeline of worker slots (tasks coloured by outcome, deaths marked), workers busy over time, \
            throughput and task-duration distribution by kind, the slowest attempts, every failed task with \
            its reason. No network, no external script. A line that is not an event (a truncated file) is \
            one error line naming the file and line, exit 2.
            """)

    @OptionGroup var files: EventsFileOptions

    func run() throws {
        var history = RunHistory()
        files.readEvents { history.record($0) }
        let file = files.openOutput()
        file.writeLine(ReportPage.html(history, source: files.events))
        if let failure = file.finish() { fail(failure) }
    }
}
