/// A worker as the C thunks see it: closures over a ``TypedWorkerSession``. Its retained address
/// is the worker instance pointer of the ABI.
@usableFromInline
final class WorkerCallbacks {
    /// Performs one request; true if a response was sent or the task failed (`fail_task`), false
    /// if `fail` was called.
    let perform: (BorrowedBytes, PerformChannel) -> Bool
    /// Delivers one broadcast.
    let receiveBroadcast: (BorrowedBytes) -> Void
    /// Runs the worker's finish hook (`worker_fini`).
    let finish: () -> Void

    @usableFromInline
    init(perform: @escaping (BorrowedBytes, PerformChannel) -> Bool, receiveBroadcast: @escaping (BorrowedBytes) -> Void,
         finish: @escaping () -> Void) {
        self.perform = perform
        self.receiveBroadcast = receiveBroadcast
        self.finish = finish
    }

    /// A worker that fails every request with `message` (its initializer threw).
    @usableFromInline
    static func failing(_ message: String) -> WorkerCallbacks {
        WorkerCallbacks(
            perform: { _, channel in
                channel.fail(message)
                return false
            },
            receiveBroadcast: { _ in },
            finish: {})
    }
}
