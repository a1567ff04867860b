import PluginProtocol

/// How a run keeps its journal (`plugin-host run --journal FILE`, `--resume FILE`).
public struct JournalOptions: Sendable {
    /// The journal file.
    public var path: String
    /// Continue the run the journal records (replay its ended tasks, run the rest, append to
    /// it) instead of starting a new journal (which must not exist yet).
    public var resumes: Bool
    /// On resume, run the tasks the journal records as failed or expired again, instead of
    /// ending them as they ended.
    public var rerunsFailed: Bool
    /// More of the run's identity, recorded in the header and compared on resume, as
    /// (what, digest) pairs: e.g. ("job file", its digest).
    public var identity: [(name: String, value: String)]

    /// Creates the options of a journal at `path`.
    public init(path: String, resumes: Bool = false, rerunsFailed: Bool = false, identity: [(name: String, value: String)] = []) {
        self.path = path
        self.resumes = resumes
        self.rerunsFailed = rerunsFailed
        self.identity = identity
    }

    /// The SHA-256 of `bytes` in hexadecimal, for ``identity``.
    public static func digest(_ bytes: [UInt8]) -> String {
        var hasher = SHA256Hasher()!
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finish().map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
