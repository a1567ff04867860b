/// What a journal holds, for `plugin-host journal FILE`: its identity and its task ends counted.
public struct JournalSummary: Sendable {
    /// The identity the header records, as (what, digest) pairs.
    public let identity: [(name: String, value: String)]
    /// Task ends by outcome, every record counted.
    public let ends: OutcomeCounts
    /// Distinct tasks ended.
    public let tasks: Int
    /// Tasks ended more than once (run again: by `--resume-failed`, or with a pinned tree whose
    /// worker died with the master).
    public let endedMoreThanOnce: Int
    /// Checkpoints of checkpointed kinds ("ph.checkpoint/1"), which journal no task ends.
    public let checkpoints: Int
    /// Format 3: checkpoints written before the last sync of their outputs (those a resume after
    /// a reboot may trust); nil for older formats, which do not record it.
    public let syncedCheckpoints: Int?
    /// True when the last record was torn (a master killed while writing it); a resume drops it.
    public let tornLastRecord: Bool

    /// Reads the journal at `path`; throws one line naming the file and what is wrong.
    public init(path: String) throws(HostError) {
        let contents: JournalContents
        do { contents = try JournalReader.read(path: path) } catch { throw .usage(error.description) }
        identity = contents.header.identity
        var ends = OutcomeCounts()
        var seen: [TaskKey: Int] = [:]
        for entry in contents.entries {
            ends.record(entry.outcome)
            seen[entry.key, default: 0] += 1
        }
        self.ends = ends
        tasks = seen.count
        endedMoreThanOnce = seen.values.filter { $0 > 1 }.count
        tornLastRecord = contents.droppedTornRecord
        checkpoints = contents.checkpointRecords
        syncedCheckpoints = contents.header.version >= 3
            ? contents.checkpointRecordNumbers.values.joined().filter { $0 < contents.outputsSyncedThrough }.count : nil
    }
}
