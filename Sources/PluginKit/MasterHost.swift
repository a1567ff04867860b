/// The host's services to a task kind's master side: queueing tasks, broadcasting to workers,
/// logging.
///
/// A handle is valid from ``TaskKind/init(arguments:context:)`` until
/// ``TaskKind/finish(summary:)`` returns; after that its methods do nothing. It is not
/// thread-safe: call it only from the task kind's own callbacks, which the host serialises.
public struct MasterHost<Kind: TaskKind> {
    @usableFromInline
    let channel: MasterHostChannel

    @inlinable
    init(channel: MasterHostChannel) {
        self.channel = channel
    }

    /// Queues a task.
    ///
    /// Allowed while the host is in ``TaskKind/init(arguments:context:)``,
    /// ``TaskKind/pull(upTo:)``, ``TaskKind/useResponse(_:for:worker:)``,
    /// ``TaskKind/marshalError(_:task:)`` or ``TaskKind/taskLost(_:reason:message:willRetry:)``;
    /// anywhere else the ABI forbids it, and the task is dropped with an error in the host's log.
    /// Unlike a follow-up returned in a ``ResponseDecision``, a pushed task is independent of the
    /// task being handled (it does not inherit its cancellation).
    ///
    /// - Parameters:
    ///   - task: The task to queue.
    ///   - priority: Lower values run first; equal priorities run in the order they were queued.
    ///   - timeout: This task's time limit (rounded up to whole milliseconds, at least 1 ms), or
    ///     `nil` for the run's default.
    @inlinable
    public func push(_ task: Kind.Task, priority: Int32 = 0, timeout: Duration? = nil) {
        guard channel.isPushAllowed else {
            log("\(Kind.name): push(_:) called outside init, pull, useResponse, marshalError or taskLost; task dropped",
                level: .error)
            return
        }
        let milliseconds = Self.milliseconds(timeout)
        channel.writers.withWriter { writer in
            task.encode(to: &writer)
            channel.pushTask(writer, priority: priority, timeoutMilliseconds: milliseconds)
        }
    }

    /// Sends `feedback` to every live worker of this task kind, delivered to
    /// ``TaskWorker/receiveBroadcast(_:)`` between requests, in order.
    @inlinable
    public func broadcast(_ feedback: Kind.Feedback) {
        channel.writers.withWriter { writer in
            feedback.encode(to: &writer)
            channel.broadcast(writer)
        }
    }

    /// Declares the task kind's own unit of work and how many units the run has, for the
    /// host's progress line (e.g. 8,573 "proofs" spread over a few dozen batch tasks).
    ///
    /// Does nothing on a host without the progress extension (`PH_EXT_PROGRESS`).
    @inlinable
    public func setProgressTotal(_ total: Int, unit: String) {
        channel.setProgressTotal(UInt64(max(0, total)), unit: unit)
    }

    /// Offers the regular file open at `fileDescriptor` to the workers (the host keeps its own
    /// duplicate; do not change the content afterwards). Returns nil on a host without the blobs
    /// extension (`PH_EXT_BLOBS`) or for an unusable descriptor: then workers must reach the file
    /// another way.
    @inlinable
    public func publishBlob(fileDescriptor: Int32) -> BlobID? {
        let id = channel.publishBlob(fileDescriptor)
        return id == 0 ? nil : BlobID(rawValue: id)
    }

    /// How the worker named `worker` reaches a published file: put these bytes in its request and
    /// open them there with ``PerformContext/openBlob(_:)``. A worker on this machine opens the
    /// master's file; one elsewhere fetches the content once per machine (the first reference
    /// for a remote worker hashes the file). Nil when the host cannot say.
    @inlinable
    public func blobReference(_ blob: BlobID, for worker: String) -> [UInt8]? {
        channel.blobReference(blob.rawValue, worker: worker)
    }

    /// Counts `units` more units of work as done on the host's progress line.
    @inlinable
    public func advanceProgress(by units: Int) {
        guard units > 0 else { return }
        channel.advanceProgress(by: UInt64(units))
    }

    /// Logs one line in the host's log.
    @inlinable
    public func log(_ message: String, level: LogLevel = .info) {
        channel.log(message, level: level)
    }

    /// The ABI's `timeout_ms`: 0 for the default, otherwise at least 1.
    @usableFromInline
    static func milliseconds(_ timeout: Duration?) -> UInt32 {
        guard let timeout else { return 0 }
        let (seconds, attoseconds) = timeout.components
        guard seconds >= 0, attoseconds >= 0 else { return 1 }
        guard seconds <= Int64(UInt32.max / 1000) else { return .max }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let roundUp: Int64 = attoseconds % attosecondsPerMillisecond == 0 ? 0 : 1
        let milliseconds = seconds * 1000 + attoseconds / attosecondsPerMillisecond + roundUp
        return UInt32(clamping: max(1, milliseconds))
    }
}
