import ArgumentParser
import PluginHost

/// `plugin-host trace EVENTS.jsonl -o FILE`: converts an `--events` file into Chrome's Trace
/// Event format (what `run --trace` writes while the run goes).
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Convert an --events file into a Chrome trace (for Perfetto or chrome://tracing).",
        discussion: "A line that is not an event (a truncated file) is one error line naming the file and line, exit 2.")

    @Argument(help: ArgumentHelp("An events file written by 'run --events'.", valueName: "events.jsonl"))
    var events: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The trace file to write ('-': standard output).", valueName: "file"))
    var output: String

    func run() throws {
        var guardOutputs = OutputGuard()
        guardOutputs.addInput(events)
        if output != "-" { guardOutputs.addOutput(output, option: "-o") }
        do { try guardOutputs.check() } catch { fail(error.description) }
        let file: OutputFile
        do {
            file = try output == "-" ? OutputFile(standardOutputFor: "-o") : OutputFile(path: output, option: "-o")
        } catch { fail(error.description) }
        let trace = TraceFile(output: file)
        do { try EventsFile.read(events) { trace.record($0) } } catch { fail(error.description) }
        if let failure = trace.finish() { fail(failure) }
    }
}
