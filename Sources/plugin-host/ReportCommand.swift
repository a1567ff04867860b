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

    @Argument(help: ArgumentHelp("An events file written by 'run --events'.", valueName: "events.jsonl"))
    var events: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write ('-': standard output).", valueName: "file"))
    var output: String

    func run() throws {
        var guardOutputs = OutputGuard()
        guardOutputs.addInput(events)
        if output != "-" { guardOutputs.addOutput(output, option: "-o") }
        do { try guardOutputs.check() } catch { fail(error.description) }
        var history = RunHistory()
        do { try EventsFile.read(events) { history.record($0) } } catch { fail(error.description) }
        let file: OutputFile
        do {
            file = try output == "-" ? OutputFile(standardOutputFor: "-o") : OutputFile(path: output, option: "-o")
        } catch { fail(error.description) }
        file.writeLine(ReportPage.html(history, source: events))
        if let failure = file.finish() { fail(failure) }
    }
}
