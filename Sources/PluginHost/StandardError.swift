import PluginProtocol

/// Writes a line to the host's stderr.
func printToStandardError(_ line: String) {
    StandardStreams.writeLine(line, to: 2)
}
