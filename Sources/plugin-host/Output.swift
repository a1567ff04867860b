import PluginHost

#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to stdout or stderr, unbuffered.
func printLine(_ text: String, toStandardError: Bool = false) {
    StandardStreams.writeLine(text, to: toStandardError ? 2 : 1)
}

/// Ends the process.
func exitProcess(_ status: Int32) -> Never { exit(status) }

/// True if file descriptor `fd` is a terminal.
func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }
