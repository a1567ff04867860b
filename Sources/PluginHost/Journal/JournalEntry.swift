/// What `use_response` consumed for a task that ended: enough to call it again without a worker.
struct ReplayEvidence: Equatable, Sendable {
    /// The status of the worker that answered.
    var status: EncodedWorkerStatus
    /// The name of the worker that answered (`kind:slot:uid`).
    var worker: String
    /// The feedback forwarded for the task, in order, before its response.
    var feedback: [[UInt8]]
    /// The response bytes.
    var response: [UInt8]
    /// Child indices of the follow-ups `use_response` pushed while keeping its worker (`stay`):
    /// they may need that worker's state, so the task is replayed only if they all ended too.
    var pinnedFollowUps: Range<UInt64> = 0..<0
}

/// One task end in the journal.
struct JournalEntry: Equatable, Sendable {
    var key: TaskKey
    var outcome: TaskOutcome
    var message: String?
    /// Present when the outcome came from `use_response` (it can be replayed); nil when the task
    /// ended otherwise (a worker's death, a task-failure frame, a loss or marshal-error callback).
    var evidence: ReplayEvidence?
}

/// The journal's first record: the format and what the run's identity is made of.
struct JournalHeader: Equatable, Sendable {
    /// Version 2 added checkpoint records, version 3 segment (boot id) and synced-through records
    /// (a version 2 reader would take them for damage); older journals are read as ever.
    static let formatVersion: UInt16 = 3
    static let readableVersions: ClosedRange<UInt16> = 1...3
    var version: UInt16 = JournalHeader.formatVersion
    /// Named digests (hexadecimal) of what makes a run the same run: plugin builds, arguments,
    /// job file, the kinds' own input identities. Compared field by field on resume.
    var identity: [(name: String, value: String)]

    static func == (a: JournalHeader, b: JournalHeader) -> Bool {
        a.version == b.version && a.identity.map(\.name) == b.identity.map(\.name)
            && a.identity.map(\.value) == b.identity.map(\.value)
    }
}

/// A checkpointed kind's own record of what it has durably written ("ph.checkpoint/1"): opaque
/// to the host, handed back to the kind's `resume`; the last one of a kind counts.
struct JournalCheckpoint: Equatable, Sendable {
    /// The kind's position in the run (as in ``TaskKey/kind``).
    var kind: UInt16
    var state: [UInt8]
}
