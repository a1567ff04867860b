#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to stdout or stderr, unbuffered.
func printLine(_ text: String, toStandardError: Bool = false) {
    var line = text
    line += "\n"
    let fd: Int32 = toStandardError ? 2 : 1
    line.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Ends the process.
func exitProcess(_ status: Int32) -> Never { exit(status) }

/// True if file descriptor `fd` is a terminal.
func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }
