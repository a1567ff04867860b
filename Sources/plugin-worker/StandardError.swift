import PluginProtocol

/// Writes one line to file descriptor 2 (no stdio buffering, no shared `stderr` global).
func printError(_ line: String) {
    StandardStreams.writeLine(line, to: 2)
}
