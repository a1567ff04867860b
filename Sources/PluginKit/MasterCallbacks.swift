/// The master side of one run as the C thunks see it: raw ABI views in, sink calls out.
///
/// A table of closures over a ``TypedMasterSession`` rather than a protocol, so that every
/// call runs code specialised for the concrete task kind (see ``TypedMasterSession``). A class,
/// so that a thunk loads the one closure it calls instead of copying the table. Its retained
/// address is the master instance pointer of the ABI.
@usableFromInline
final class MasterCallbacks {
    let pull: (Int) -> PullResult
    let taskMatch: (BorrowedBytes, RawWorkerStatus) -> Bool
    let requestOfTask: (BorrowedBytes, RawWorkerStatus, RequestSink) -> RequestVerdict
    let useResponse: (BorrowedBytes, BorrowedBytes, RawWorkerStatus, ResponseSink) -> Void
    let marshalError: (String, BorrowedBytes, ResponseSink) -> Void
    let taskLost: (BorrowedBytes, LossReason, String, Bool, ResponseSink) -> Void
    let feedback: (BorrowedBytes, String) -> Void
    let finish: (RunSummary, ReportSink) -> Void
    let nameOfTask: (BorrowedBytes, NameSink) -> Void
    let nameOfRequest: (BorrowedBytes, NameSink) -> Void
    /// "ph.journal/1": why the run cannot be replayed (nil: it can), and its input identity.
    let journalRefusal: () -> String?
    let journalIdentity: () -> [UInt8]

    @usableFromInline
    init(
        pull: @escaping (Int) -> PullResult,
        taskMatch: @escaping (BorrowedBytes, RawWorkerStatus) -> Bool,
        requestOfTask: @escaping (BorrowedBytes, RawWorkerStatus, RequestSink) -> RequestVerdict,
        useResponse: @escaping (BorrowedBytes, BorrowedBytes, RawWorkerStatus, ResponseSink) -> Void,
        marshalError: @escaping (String, BorrowedBytes, ResponseSink) -> Void,
        taskLost: @escaping (BorrowedBytes, LossReason, String, Bool, ResponseSink) -> Void,
        feedback: @escaping (BorrowedBytes, String) -> Void,
        finish: @escaping (RunSummary, ReportSink) -> Void,
        nameOfTask: @escaping (BorrowedBytes, NameSink) -> Void,
        nameOfRequest: @escaping (BorrowedBytes, NameSink) -> Void,
        journalRefusal: @escaping () -> String?,
        journalIdentity: @escaping () -> [UInt8]
    ) {
        self.pull = pull
        self.taskMatch = taskMatch
        self.requestOfTask = requestOfTask
        self.useResponse = useResponse
        self.marshalError = marshalError
        self.taskLost = taskLost
        self.feedback = feedback
        self.finish = finish
        self.nameOfTask = nameOfTask
        self.nameOfRequest = nameOfRequest
        self.journalRefusal = journalRefusal
        self.journalIdentity = journalIdentity
    }
}
