/// A database that cannot be read or parsed: one line, "FILE:LINE: message".
///
/// `line` is 1-based; it is 0 when the problem concerns a whole file (it cannot be opened, an
/// image file is damaged), and ``description`` then reads "FILE: message".
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// The file the problem is in (for an include: as the including file names it, joined to
    /// the including file's directory).
    public var file: String
    /// The 1-based line, or 0 when the message concerns the whole file.
    public var line: Int
    /// What is wrong, e.g. `math symbol "x" is not declared`.
    public var message: String

    /// Creates an error at `file:line`.
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// "FILE:LINE: message" (or "FILE: message" when `line` is 0).
    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}
