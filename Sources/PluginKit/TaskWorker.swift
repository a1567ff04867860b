/// The worker side of a task kind: performs requests in a worker process.
///
/// The worker process creates one value with ``init(name:)`` when it starts and calls
/// ``perform(_:context:)`` for each request on its main thread, one at a time, for as long as
/// the master keeps it alive; state kept in the value between requests is what an old
/// worker's competence describes.
public protocol TaskWorker {
    /// What the worker receives.
    associatedtype Request: BinaryDecodable
    /// What the worker answers.
    associatedtype Response: BinaryEncodable
    /// Messages streamed to the master, and broadcast by it.
    associatedtype Feedback: BinaryCodable = String

    /// Starts a worker.
    ///
    /// - Parameter name: The worker's name, `kind:slot:uid`, unique in the run.
    /// - Throws: If the worker cannot start; every request it is then given fails with the
    ///   error's description, which the master sees as a marshal error.
    init(name: String) throws

    /// Performs one request.
    ///
    /// Throw ``TaskFailure`` for an ordinary task failure: the task ends as failed with its
    /// message, is not retried, and the worker is kept as it is (a fresh worker stays fresh, an
    /// old one keeps its competence and whatever it holds). Throw any other error only when the
    /// request cannot be served at all: the master then sees a marshal error and replaces the
    /// worker. A request that does not decode never reaches this method (the master sees a
    /// marshal error too).
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - context: Feedback and cancellation for this request only.
    mutating func perform(_ request: Request, context: borrowing PerformContext<Feedback>) throws -> Response

    /// A broadcast from the master, delivered between requests, in order. The default
    /// ignores it; a broadcast that does not decode is dropped.
    mutating func receiveBroadcast(_ feedback: Feedback)

    /// Called once when the master ends the worker cleanly, before the process exits: release
    /// what the worker holds outside the process (temporary files, connections) or flush what it
    /// buffered. The default does nothing.
    ///
    /// The master ends cleanly the workers idle when a run ends normally (the ABI's
    /// `worker_fini`). A worker retired between jobs (a response that ends it, recycling), one
    /// that crashes or runs out of time, and every worker of an interrupted run are killed
    /// instead, and this is not called: keep nothing here that the run's result depends on.
    mutating func finish()
}

extension TaskWorker {
    /// Ignores the broadcast.
    @inlinable
    public mutating func receiveBroadcast(_ feedback: Feedback) {}

    /// Does nothing.
    @inlinable
    public mutating func finish() {}
}
