/// A task kind written in Swift: the master side of a plugin, plus the type of its workers.
///
/// A task kind turns *tasks* (kept in the master's queue) into *requests* (sent to a worker
/// process), and judges the worker's *response*: whether the worker stays alive and what it is
/// then competent for, which follow-up tasks to queue, and how the task ended. This is the
/// shape of Coq's `AsyncTaskQueue.Task`; PluginKit moves every value across the C ABI in the
/// binary format described on ``BinaryEncodable``.
///
/// The conforming type is the master's state for one run: the host creates it with
/// ``init(arguments:context:)`` and calls its methods one at a time (never concurrently) until
/// ``finish(summary:)``. Its ``Worker`` type runs in the worker processes.
///
/// Export the kind from the plugin library with one function:
///
/// ```swift
/// @_cdecl("plugin_host_entry")
/// public func pluginHostEntry(_ major: UInt32, _ minor: UInt32,
///                             _ out: UnsafeMutablePointer<PluginDescriptor>?) -> Int32 {
///     PluginExport.fill(out, hostMajor: major, hostMinor: minor, kind: EchoKind.self)
/// }
/// ```
///
/// Only ``init(arguments:context:)``, ``request(for:worker:)`` and
/// ``useResponse(_:for:worker:)`` are required of the master side; every other hook has a
/// default that does what the host does when the C callback is missing.
///
/// The host calls a task kind from its own threads, never from an actor, so a conformance may
/// not be isolated to one (hence `SendableMetatype`).
public protocol TaskKind: SendableMetatype {
    /// What the master queues: it may hold anything the master needs to judge the response.
    associatedtype Task: BinaryCodable
    /// What a worker receives for one task.
    associatedtype Request: BinaryCodable
    /// What a worker answers.
    associatedtype Response: BinaryCodable
    /// What an old worker is known to hold, given with ``ResponseDecision/stay(_:followUps:outcome:)``.
    associatedtype Competence: BinaryCodable
    /// Messages streamed from a worker to the master while it performs a request, and broadcast
    /// from the master to the workers.
    associatedtype Feedback: BinaryCodable = String
    /// The worker side: runs in each worker process.
    associatedtype Worker: TaskWorker
    where Worker.Request == Request, Worker.Response == Response, Worker.Feedback == Feedback

    /// The name used on the command line and in worker names: one or more of `[a-z0-9_-]`.
    static var name: String { get }
    /// The plugin's own version, free form (`"1.2.0"`).
    static var version: String { get }
    /// One line saying what the task kind does.
    static var summary: String { get }
    /// Usage text for the task kind's own arguments. Defaults to none.
    static var usage: String { get }
    /// The worker policy unless the user overrides it. Defaults to ``WorkerPolicy/oneShot``.
    static var defaultPolicy: WorkerPolicy { get }

    /// Starts a run: parses the task kind's arguments and queues the initial tasks through
    /// `context.host`.
    ///
    /// - Parameters:
    ///   - arguments: The task kind's own arguments, without the command name.
    ///   - context: The policy, the worker count and the host's services for this run.
    /// - Throws: A ``UsageError`` (or any error, shown through its description) for bad
    ///   arguments; the host reports it as a usage error and does not start the run.
    init(arguments: [String], context: OpenContext<Self>) throws

    /// Queues up to `max` more tasks when workers are idle and the queue is empty.
    ///
    /// Lets a task kind produce its input lazily. The default queues nothing and reports the
    /// input exhausted.
    mutating func pull(upTo max: Int) -> PullResult

    /// Whether `task` suits a worker in state `worker`. The default accepts every worker.
    ///
    /// Must be cheap and free of side effects: the host may ask it for many pairs.
    func taskMatch(_ task: Task, worker: WorkerStatus<Competence>) -> Bool

    /// Turns `task` into a request for a worker in state `worker`.
    ///
    /// Should be free of side effects: a host may use it to describe queued tasks.
    ///
    /// - Returns: The request, or `nil` if the task is obsolete (it then ends as skipped and
    ///   the worker stays as it is).
    /// - Throws: If the request cannot be made; the host treats it as a marshal error
    ///   (``marshalError(_:task:)``) and replaces the worker.
    func request(for task: Task, worker: WorkerStatus<Competence>) throws -> Request?

    /// Judges a worker's response to `task`: stay or end, follow-up tasks, outcome.
    ///
    /// A response that does not decode never reaches this method: PluginKit calls
    /// ``marshalError(_:task:)`` instead and ends the worker.
    mutating func useResponse(_ response: Response, for task: Task, worker: WorkerStatus<Competence>)
        -> ResponseDecision<Competence, Task>

    /// A request could not be made or sent, a response did not decode, or a frame was
    /// malformed; the worker is replaced.
    ///
    /// - Parameters:
    ///   - message: What went wrong.
    ///   - task: The task concerned, or `nil` if the host gave none (or it did not decode).
    /// - Returns: An outcome to settle the task (e.g. after running it in the master), or
    ///   `nil` (the default) to let it fail with `message`.
    mutating func marshalError(_ message: String, task: Task?) -> TaskVerdict?

    /// A task was cancelled, expired, lost with its worker, or could not be started.
    ///
    /// - Parameters:
    ///   - task: The task, or `nil` when an idle worker died.
    ///   - reason: Why it was lost.
    ///   - message: The host's explanation.
    ///   - willRetry: True when the host is about to retry the task on a fresh worker.
    /// - Returns: An outcome to settle the task, or `nil` (the default) to let the host retry
    ///   it or fail it with the reason.
    mutating func taskLost(_ task: Task?, reason: LossReason, message: String, willRetry: Bool) -> TaskVerdict?

    /// One feedback message from the worker named `worker`, in the order the worker sent them.
    /// The default ignores it.
    mutating func feedback(_ feedback: Feedback, from worker: String)

    /// Ends the run: returns the text for the final report and, optionally, the exit status.
    /// The default reports nothing and lets the host derive the exit status.
    mutating func finish(summary: RunSummary) -> KindReport

    /// Why this run cannot be replayed from a journal (`plugin-host run --journal`), or nil if
    /// it can ("ph.journal/1"). A run can be replayed when the kind produces the same tasks in
    /// the same order from the same arguments and input, and ``useResponse(_:for:worker:)``
    /// depends only on the task, the worker's status, the feedback and the response. The
    /// default says it can.
    func journalRefusal() -> String?

    /// Bytes that identify the kind's inputs beyond its arguments (e.g. a digest of the files
    /// it reads): a journal records them and refuses a resume whose bytes differ. The default
    /// gives none.
    func journalIdentity() -> [UInt8]

    /// A short name for `task` in logs and events, or `nil` (the default) for none.
    func name(of task: Task) -> String?

    /// A short name for `request` in logs and events, or `nil` (the default) for none.
    func name(ofRequest request: Request) -> String?
}

extension TaskKind {
    /// No usage text.
    @inlinable
    public static var usage: String { "" }

    /// Reboot workers after every job.
    @inlinable
    public static var defaultPolicy: WorkerPolicy { .oneShot }

    /// Queues nothing: the input is exhausted.
    @inlinable
    public mutating func pull(upTo max: Int) -> PullResult { .exhausted }

    /// Every task suits every worker.
    @inlinable
    public func taskMatch(_ task: Task, worker: WorkerStatus<Competence>) -> Bool { true }

    /// Lets the task fail with the message.
    @inlinable
    public mutating func marshalError(_ message: String, task: Task?) -> TaskVerdict? { nil }

    /// Lets the host retry the task or fail it with the reason.
    @inlinable
    public mutating func taskLost(_ task: Task?, reason: LossReason, message: String, willRetry: Bool) -> TaskVerdict? {
        nil
    }

    /// Ignores the message.
    @inlinable
    public mutating func feedback(_ feedback: Feedback, from worker: String) {}

    /// Reports nothing.
    @inlinable
    public mutating func finish(summary: RunSummary) -> KindReport { KindReport() }

    /// Replayable.
    @inlinable
    public func journalRefusal() -> String? { nil }

    /// No identity beyond the arguments.
    @inlinable
    public func journalIdentity() -> [UInt8] { [] }

    /// No name.
    @inlinable
    public func name(of task: Task) -> String? { nil }

    /// No name.
    @inlinable
    public func name(ofRequest request: Request) -> String? { nil }
}
