/// A task known to the scheduler, from the moment it is queued until it ends.
final class TaskRecord {
    let id: UInt64
    let kind: KindState
    let bytes: [UInt8]
    let priority: Int32
    /// This task's time limit per attempt, in nanoseconds (0: the run's default).
    let timeoutNanoseconds: UInt64
    /// The task whose response pushed this one, if it is a follow-up.
    let parent: UInt64?
    /// The first ancestor: cancelling it cancels this task too.
    let root: UInt64
    /// The worker that pushed this follow-up; it is offered that worker first.
    weak var origin: WorkerState?
    /// Requests sent so far.
    var attempts = 0
    /// Attempts lost because their worker ran out of memory (counted against `oomRetries`,
    /// the other lost attempts against `retries`).
    var outOfMemoryLosses = 0
    /// Attempts killed because the machine ran short of memory (`--memfree`): not losses, not
    /// counted against any retry count.
    var memoryRequeues = 0
    /// Set once the task ended; guards the exactly-once rule.
    var ended = false
    /// Set once its late `taskQueued` event was sent (see ``HostEventCategories/taskQueuedLate``).
    var announced = false
    /// Cached `task_match(Fresh, task)`.
    var matchesFresh: Bool?
    /// Journal only (see ``TaskKey``): this task's key, how many tasks were pushed while the host
    /// judged it, whether its end came from the journal, the feedback forwarded for it and what
    /// `use_response` consumed.
    var key: TaskKey?
    var pushedChildren: UInt64 = 0
    var replayed = false
    var feedback: [[UInt8]] = []
    var evidence: ReplayEvidence?
    /// Journal only: the plugin judged this task in the master without a response (its
    /// `on_task_lost` without a retry, or its `on_marshal_error`). What that did to the plugin's
    /// state (a ParMap line's `#error` output) is not in the journal, so a failure or expiry
    /// decided there is not journaled: a resume runs the task again, and the plugin judges it again.
    var judgedWithoutResponse = false

    init(id: UInt64, kind: KindState, bytes: [UInt8], priority: Int32, timeoutNanoseconds: UInt64,
         parent: TaskRecord?, origin: WorkerState?) {
        self.id = id
        self.kind = kind
        self.bytes = bytes
        self.priority = priority
        self.timeoutNanoseconds = timeoutNanoseconds
        self.parent = parent?.id
        self.root = parent?.root ?? id
        self.origin = origin
    }
}
