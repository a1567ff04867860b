import SystemPackage

/// Why a journal cannot be resumed (or started). Each prints as one line naming the file.
enum JournalError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case unreadable(String, Errno)
    case exists(String)
    case notAJournal(String)
    case truncatedHeader(String, size: Int)
    case unsupportedVersion(String, UInt16)
    case corrupted(String, offset: Int, record: Int)
    case foreign(String, field: String, journal: String, run: String)
    case notWritable(String, Errno)

    var description: String {
        switch self {
        case .missing(let path): return "\(path): no such journal (start one with --journal \(path))"
        case .unreadable(let path, let errno): return "\(path): cannot read the journal: \(errno.description)"
        case .exists(let path): return "\(path): the journal already exists (continue it with --resume \(path), or remove it)"
        case .notAJournal(let path): return "\(path): not a plugin-host journal"
        case .truncatedHeader(let path, let size): return "\(path): the journal is truncated in its header (\(size) bytes)"
        case .unsupportedVersion(let path, let version):
            return "\(path): journal format version \(version), this host reads versions \(JournalHeader.readableVersions.lowerBound)-\(JournalHeader.readableVersions.upperBound)"
        case .corrupted(let path, let offset, let record):
            return "\(path): the journal is corrupted at byte \(offset) (record \(record) fails its checksum)"
        case .foreign(let path, let field, let journal, let run):
            return "\(path): the journal is from another run: \(field) differs (journal \(journal), this run \(run))"
        case .notWritable(let path, let errno): return "\(path): cannot write the journal: \(errno.description)"
        }
    }
}
