import DequeModule
import PluginProtocol

/// One task kind in a run: its plugin, queue and counters.
final class KindState {
    let name: String
    let plugin: MasterPlugin
    var queue = PendingQueue()
    /// False once `pull` said the input is exhausted (true from the start without `pull`).
    var inputExhausted: Bool
    /// Set when workers of this kind cannot be started; its tasks then go to `on_task_lost`.
    var spawnFailure: String?
    /// True once a task failed because of `spawnFailure` (a set-up error of the run).
    var reportedSpawnFailure = false
    var consecutiveSpawnFailures = 0
    /// After a spawn failure, no new worker of this kind before this time (monotonic ns): a
    /// transient failure (EAGAIN, EMFILE) gets time to clear instead of three instant retries.
    var spawnNotBefore: UInt64 = 0
    var everStarted = false
    /// Next never-reused worker uid of this kind.
    var nextUID = 0
    var counts = OutcomeCounts()
    /// The worker policy the operator chose for this kind (nil: the plugin's answers decide).
    /// Under `.oneShot` a worker ends after every task whatever the plugin answers.
    var policy: WorkerPolicy?
    /// True once the host said that `.oneShot` overrides this kind's `stay` answers.
    var warnedOneShotStay = false
    /// Journal only: this kind's position in the run (the first part of its tasks' keys), the
    /// tasks its `master_open` / `pull` pushed so far, and tasks waiting to be ended from the
    /// journal being resumed.
    var journalIndex: UInt16 = 0
    var rootPushes: UInt64 = 0
    var replays = Deque<(TaskRecord, JournalEntry)>()
    /// Journal only: the kind resumes from checkpoints of its own ("ph.checkpoint/1"): neither
    /// its responses nor its task ends are journaled.
    var checkpointed = false

    init(name: String, plugin: MasterPlugin) {
        self.name = name
        self.plugin = plugin
        self.inputExhausted = !plugin.canPull
    }
}
