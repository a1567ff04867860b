/// What a resumed run takes from its journal: for each task key, how the task ended last.
final class ResumeLedger {
    private var entries: [TaskKey: JournalEntry] = [:]
    /// Reruns the tasks that failed or expired instead of ending them as journaled.
    let rerunsFailed: Bool
    /// Tasks replayed or ended from the journal in this run.
    private(set) var replayed = 0

    init(_ journaled: [JournalEntry], rerunsFailed: Bool) {
        self.rerunsFailed = rerunsFailed
        entries.reserveCapacity(journaled.count)
        for entry in journaled { entries[entry.key] = entry }  // A later end of the same task wins.
        dropIncompletePinnedTrees()
    }

    /// A task whose follow-ups were pinned to its worker (`stay`) is replayed only if every one
    /// of them ended as well (and so on down): otherwise the state they need died with that
    /// worker, and the task runs again, with its whole tree.
    private func dropIncompletePinnedTrees() {
        var memo: [TaskKey: Bool] = [:]
        func complete(_ key: TaskKey) -> Bool {
            if let known = memo[key] { return known }
            guard let entry = entries[key], takesEffect(entry) else { memo[key] = false; return false }
            var result = true
            if let pinned = entry.evidence?.pinnedFollowUps {
                for index in pinned where !complete(key.child(index)) {
                    result = false
                    break
                }
            }
            memo[key] = result
            return result
        }
        let incomplete = entries.keys.filter { entries[$0]?.evidence?.pinnedFollowUps.isEmpty == false && !complete($0) }
        guard !incomplete.isEmpty else { return }
        let roots = Set(incomplete)
        entries = entries.filter { key, _ in
            !(1...key.path.count).contains { roots.contains(TaskKey(kind: key.kind, path: Array(key.path.prefix($0)))) }
        }
    }

    /// Whether a journaled end stands in for running the task in this run.
    private func takesEffect(_ entry: JournalEntry) -> Bool {
        switch entry.outcome {
        case .done: return entry.evidence != nil  // Done in the master (no response): run it again.
        case .failed, .expired: return !rerunsFailed
        case .cancelled, .skipped: return false
        }
    }

    /// The journaled end that replaces running the task `key`, if any (taken: asked once).
    func take(_ key: TaskKey) -> JournalEntry? {
        guard let entry = entries.removeValue(forKey: key), takesEffect(entry) else { return nil }
        replayed += 1
        return entry
    }
}
