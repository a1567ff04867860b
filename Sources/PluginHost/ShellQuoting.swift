/// POSIX shell quoting, for words that reach a shell on the other side of a launcher (ssh joins
/// its remote command's words with spaces and hands the line to the remote user's shell).
public enum ShellQuoting {
    /// `word` as one word for a POSIX shell: unchanged when it holds only bytes no shell treats
    /// specially (letters, digits and `_@%+:,./-`; not `=`,
    /// which could make a first word an assignment), else in single quotes, each `'` written as
    /// `'\''`. The empty word is `''`.
    public static func quote(_ word: String) -> String {
        guard needsQuoting(word) else { return word }
        return "'" + word.replacing("'", with: #"'\''"#) + "'"
    }

    /// True when `word` is not read back as itself by a POSIX shell without quotes.
    public static func needsQuoting(_ word: String) -> Bool {
        word.isEmpty || word.utf8.contains { !isPlain($0) }
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "_@%+:,./-".utf8.contains(byte)
        }
    }
}
