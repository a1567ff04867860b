import PluginHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The host's stderr during a run: message lines and the live progress line, never mixed.
///
/// Every line the command writes to stderr while the run goes passes through here. A message
/// first clears the progress line (if one is shown), so that it starts at the left margin; the
/// next progress tick draws the line again below it.
final class Console: Sendable {
    /// True while a progress line is on the terminal.
    private let statusShown = Mutex(false)

    /// Writes one message line to stderr.
    func message(_ line: String) {
        statusShown.withLock { shown in
            if shown { Self.write(Self.clearLine) }
            shown = false
            StandardStreams.writeLine(line, to: 2)
        }
    }

    /// Replaces the progress line with `text` (no newline).
    func status(_ text: String) {
        statusShown.withLock { shown in
            Self.write(Self.clearLine + text)
            shown = true
        }
    }

    /// Removes the progress line.
    func clearStatus() {
        statusShown.withLock { shown in
            if shown { Self.write(Self.clearLine) }
            shown = false
        }
    }

    /// Carriage return, then erase to the end of the line.
    private static let clearLine = "\r\u{1B}[K"

    private static func write(_ text: String) {
        var copy = text
        copy.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
