/// The journal of one run: where task ends are written and, when resuming, the ends to replay.
final class RunJournal {
    let writer: JournalWriter
    /// The journaled ends of the run being resumed; nil for a new journal.
    let ledger: ResumeLedger?

    init(writer: JournalWriter, ledger: ResumeLedger?) {
        self.writer = writer
        self.ledger = ledger
    }
}
