import ArgumentParser
import PluginHost

/// `plugin-host trace EVENTS.jsonl -o FILE`: converts an `--events` file into Chrome's Trace
/// Event format (what `run --trace` writes while the run goes).
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Convert an --events file into a Chrome trace (for Perfetto or chrome://tracing).",
        discussion: "A line that is not an event (a truncated file) is one error line naming the file and line, exit 2.")

    @OptionGroup var files: EventsFileOptions

    func run() throws {
        let trace = TraceFile(output: files.openOutput())
        files.readEvents { trace.record($0) }
        if let failure = trace.finish() { fail(failure) }
    }
}
