import PluginProtocol

// Journal: stable task keys, one record per task end, and replay of a journaled run on resume.
extension Scheduler {
    /// Gives a new task its key (see ``TaskKey``) and, on resume, diverts it to the kind's replay
    /// queue when the journal says how it ended. Returns true if diverted (not to be queued).
    func keyAndDivertLocked(_ task: TaskRecord, context: TaskRecord?) -> Bool {
        guard let journal else { return false }
        let kind = task.kind
        let key: TaskKey
        if let context, let parentKey = context.key {
            key = parentKey.child(context.pushedChildren)
            context.pushedChildren += 1
        } else {
            key = TaskKey(kind: kind.journalIndex, path: [kind.rootPushes])
            kind.rootPushes += 1
        }
        task.key = key
        guard let entry = journal.ledger?.take(key) else { return false }
        kind.replays.append((task, entry))
        return true
    }

    /// Ends the kind's diverted tasks from the journal: a journaled response goes through
    /// `forward_feedback` and `use_response` again (a `stay` keeps no worker; follow-ups are keyed,
    /// then replayed or queued), a failure without one ends as it did. Returns how many ended.
    func replayLocked(_ kind: KindState) -> Int {
        var ended = 0
        while let (task, entry) = kind.replays.popFirst() {
            ended += 1
            task.replayed = true
            if interrupted {
                endLocked(task, .cancelled, "the run was interrupted")
                continue
            }
            guard let evidence = entry.evidence else {
                endLocked(task, entry.outcome, entry.message)
                continue
            }
            for message in evidence.feedback {
                kind.plugin.forwardFeedback(worker: evidence.worker, message[...])
                absorbSideEffectsLocked(kind, parent: task, origin: nil)
            }
            let decision = kind.plugin.useResponse(evidence.status, task.bytes, evidence.response[...], worker: evidence.worker,
                                                   taskID: task.id, keepDoneMessage: configuration.collectResults || wants(.taskEnds))
            if let resolution = decision.resolution {
                endLocked(task, resolution.outcome, resolution.message)
            } else {
                endLocked(task, .done, nil)
            }
            absorbSideEffectsLocked(kind, parent: task, origin: nil)
        }
        return ended
    }

    /// Writes a task's end to the journal (done, failed and expired; not a replayed task, whose
    /// end is in the journal already, nor cancelled or skipped ones, which a resume runs again,
    /// nor a checkpointed kind's, whose checkpoints stand for them, nor a failure or expiry the
    /// plugin judged without a response: replaying it would skip the plugin's judgement, so a
    /// resume runs it again; see ``TaskRecord/judgedWithoutResponse``).
    func journalEndLocked(_ task: TaskRecord, _ outcome: TaskOutcome, _ message: String?) {
        guard let journal, !task.replayed, !task.kind.checkpointed, let key = task.key,
              outcome == .done || outcome == .failed || outcome == .expired,
              outcome == .done || task.evidence != nil || !task.judgedWithoutResponse else { return }
        journal.writer.append(JournalEntry(key: key, outcome: outcome, message: message, evidence: task.evidence))
        task.evidence = nil
        task.feedback = []
    }

    /// Keeps what `use_response` is about to consume for `task`, for the journal.
    func keepEvidenceLocked(_ task: TaskRecord, worker: WorkerState, response: ArraySlice<UInt8>, pinnedFollowUps: Int) {
        guard journal != nil, !task.kind.checkpointed else { return }
        let first = task.pushedChildren
        task.evidence = ReplayEvidence(status: worker.status, worker: worker.name, feedback: task.feedback,
                                       response: Array(response), pinnedFollowUps: first..<first + UInt64(pinnedFollowUps))
    }
}
