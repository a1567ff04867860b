/// Why bytes could not be decoded into a value.
///
/// Every decoding failure in PluginKit is one of these: the reader never traps on bad input.
/// The ``description`` names the problem and the byte offset where it was found, e.g.
/// `"truncated input at byte 12: a UInt64 needs 8 bytes, 3 left"`.
public struct BinaryDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem, for code that wants to react to it.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated
            case lengthOutOfRange
            case malformedVarint
            case invalidUTF8
            case invalidValue
            case trailingBytes
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The input ended in the middle of a value.
        public static let truncated = Reason(.truncated)
        /// A length or count is larger than the bytes left (or than the platform can address).
        public static let lengthOutOfRange = Reason(.lengthOutOfRange)
        /// A varint is longer than 10 bytes, overflows 64 bits, or is not in minimal form.
        public static let malformedVarint = Reason(.malformedVarint)
        /// A string's bytes are not valid UTF-8.
        public static let invalidUTF8 = Reason(.invalidUTF8)
        /// The bytes are well formed but name a value the type does not accept
        /// (a `Bool` byte other than 0 or 1, an unknown enum tag, ...).
        public static let invalidValue = Reason(.invalidValue)
        /// A whole buffer was decoded but bytes were left over after the value.
        public static let trailingBytes = Reason(.trailingBytes)

        /// A short name for the reason.
        public var description: String {
            switch base {
            case .truncated: "truncated input"
            case .lengthOutOfRange: "length out of range"
            case .malformedVarint: "malformed varint"
            case .invalidUTF8: "invalid UTF-8"
            case .invalidValue: "invalid value"
            case .trailingBytes: "trailing bytes"
            }
        }
    }

    /// The kind of problem.
    public var reason: Reason
    /// The byte offset, from the start of the decoded buffer, where the problem was found.
    public var offset: Int
    /// What was being read and what was wrong with it.
    public var message: String

    /// Creates an error; conforming types use it to reject values they do not accept.
    ///
    /// - Parameters:
    ///   - reason: The kind of problem, usually ``Reason/invalidValue`` from a conformance.
    ///   - offset: Where the problem was found, usually ``BinaryReader/offset``.
    ///   - message: What was wrong, e.g. `"unknown Shape tag 7"`.
    public init(_ reason: Reason, at offset: Int, _ message: String) {
        self.reason = reason
        self.offset = offset
        self.message = message
    }

    /// The reason, the offset and the message in one line.
    public var description: String {
        "\(reason) at byte \(offset): \(message)"
    }
}
