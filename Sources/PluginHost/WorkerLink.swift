import PluginProtocol

/// The master's end of one worker, as a ``WorkerTransport`` made it: frames both ways, signals,
/// and how the worker ended.
///
/// Threads: ``receive()`` is called by the worker's slot thread alone. ``enqueue(type:id:payload:)``
/// is called with the scheduler lock held and ``flush()`` after it is released, from whichever
/// thread made the decision; a link keeps frames in the order they were queued. ``signal(_:)`` is
/// called with the scheduler lock held, and never after the slot thread started reaping.
protocol WorkerLink: AnyObject, Sendable {
    /// The worker's process id on this machine (a launcher's, for a launched worker), as shown in
    /// events and reports.
    var pid: Int32 { get }

    /// Blocks until the next frame from the worker; nil when its stream ended cleanly between
    /// frames. Throws ``FrameReader/ReadError/malformed(_:)`` for bytes that are not a frame and
    /// ``FrameReader/ReadError/io(_:)`` when the link broke.
    func receive() throws(FrameReader.ReadError) -> ReceivedFrame?

    /// Queues a frame for the worker (scheduler lock held); ``flush()`` writes it. Dropped once
    /// the input is closed.
    func enqueue(type: FrameType, id: UInt64, payload: [UInt8])

    /// Writes every queued frame, in order. A failed write is left to ``receive()``, which then
    /// sees the worker's end.
    func flush()

    /// Sends a heartbeat unless that could block (frames are queued, or the link has no room).
    func sendHeartbeat()

    /// Sends a blob the worker asked for, then its end (or why it cannot be sent); nothing else
    /// is sent to the worker meanwhile.
    func sendBlob(_ blob: BlobStore.Blob?)

    /// Signals the worker and everything it started. Only before ``waitForExit()``.
    func signal(_ number: Int32)

    /// Closes the request direction: an idle worker sees end of input, runs the plugin's
    /// `worker_fini` and exits by itself. Later frames are dropped.
    func closeInput()

    /// The worker's resident memory in bytes (of the local process: a launcher's for a launched
    /// worker), or nil when it cannot be read.
    func residentMemoryBytes() -> Int64?

    /// True when the kernel killed the worker for going over its cgroup's `memory.max`. Read
    /// after ``waitForExit()``.
    var killedOutOfMemory: Bool { get }

    /// Waits until the worker has ended and returns how. Call once, after the last ``receive()``.
    func waitForExit() -> WorkerTermination

    /// The last lines the worker wrote to stderr, waiting until its stderr closed or `deadline`
    /// (monotonic nanoseconds) passed.
    func stderrTail(waitingUntil deadline: UInt64) -> [String]

    /// Waits until every stderr byte the worker had written by now has been forwarded (or its
    /// stderr ended, or `deadline` passed). Called by the slot thread before it handles an answer.
    func forwardWrittenStderr(waitingUntil deadline: UInt64)

    /// Releases what the link holds. Call once, after ``waitForExit()``.
    func close()
}

extension WorkerLink {
    /// Links without a memory cgroup never see the kernel's out-of-memory kill.
    var killedOutOfMemory: Bool { false }
    /// Links without a stderr pipe of their own forward nothing.
    func forwardWrittenStderr(waitingUntil deadline: UInt64) {}
}
