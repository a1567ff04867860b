import ArgumentParser
import PluginHost

/// The events file and output of the commands that read a run back (`trace`, `report`).
struct EventsFileOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("An events file written by 'run --events'.", valueName: "events.jsonl"))
    var events: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write ('-': standard output).", valueName: "file"))
    var output: String

    /// The output file, created after checking it is not the events file; one line and exit 2 otherwise.
    func openOutput() -> OutputFile {
        var check = OutputGuard()
        check.addInput(events)
        if output != "-" { check.addOutput(output, option: "-o") }
        do {
            try check.check()
            return try output == "-" ? OutputFile(standardOutputFor: "-o") : OutputFile(path: output, option: "-o")
        } catch { fail(error.description) }
    }

    /// Calls `body` with every event of the file; a line that is not an event is one line naming
    /// the file and the line, exit 2.
    func readEvents(_ body: (HostEvent) -> Void) {
        do { try EventsFile.read(events, body) } catch { fail(error.description) }
    }
}
