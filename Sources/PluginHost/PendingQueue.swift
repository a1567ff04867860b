import DequeModule

/// Tasks waiting for a worker: ordered by priority (lower first), FIFO among equals.
///
/// Popping is "picky" as in Coq's TQueue: the first task in order that a predicate accepts.
/// Each priority level is a `Deque` mutated in place, so the common pop (the first task of the
/// first level) is O(1).
struct PendingQueue {
    private struct Level {
        let priority: Int32
        var tasks: Deque<TaskRecord>
    }

    /// Levels sorted by priority; never holds an empty level.
    private var levels: [Level] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Appends `task` behind the tasks of its priority.
    mutating func append(_ task: TaskRecord) {
        levels[levelIndex(task.priority)].tasks.append(task)
        count += 1
    }

    /// Puts `task` ahead of the tasks of its priority (a retried task keeps its turn).
    mutating func prepend(_ task: TaskRecord) {
        levels[levelIndex(task.priority)].tasks.prepend(task)
        count += 1
    }

    /// Removes and returns the first task, in order, that `accepts`; scans at most `limit` tasks.
    mutating func removeFirst(limit: Int = .max, where accepts: (TaskRecord) -> Bool) -> TaskRecord? {
        var scanned = 0
        for levelIndex in levels.indices {
            var position = levels[levelIndex].tasks.startIndex
            while position < levels[levelIndex].tasks.endIndex {
                if scanned >= limit { return nil }
                scanned += 1
                if accepts(levels[levelIndex].tasks[position]) {
                    let task: TaskRecord
                    if position == levels[levelIndex].tasks.startIndex {
                        task = levels[levelIndex].tasks.removeFirst()
                    } else {
                        task = levels[levelIndex].tasks.remove(at: position)
                    }
                    count -= 1
                    if levels[levelIndex].tasks.isEmpty { levels.remove(at: levelIndex) }
                    return task
                }
                position += 1
            }
        }
        return nil
    }

    /// Whether some task among the first `limit` satisfies `predicate`.
    func contains(limit: Int = .max, where predicate: (TaskRecord) -> Bool) -> Bool {
        var scanned = 0
        for level in levels {
            for task in level.tasks {
                if scanned >= limit { return false }
                scanned += 1
                if predicate(task) { return true }
            }
        }
        return false
    }

    /// Removes and returns every task that satisfies `predicate`, in order.
    mutating func removeAll(where predicate: (TaskRecord) -> Bool) -> [TaskRecord] {
        var removed: [TaskRecord] = []
        for index in levels.indices {
            var kept = Deque<TaskRecord>()
            for task in levels[index].tasks {
                if predicate(task) { removed.append(task) } else { kept.append(task) }
            }
            levels[index].tasks = kept
        }
        levels.removeAll { $0.tasks.isEmpty }
        count -= removed.count
        return removed
    }

    /// The index of the level for `priority`, creating it if needed.
    private mutating func levelIndex(_ priority: Int32) -> Int {
        var low = 0
        var high = levels.count
        while low < high {
            let middle = (low + high) / 2
            if levels[middle].priority < priority { low = middle + 1 } else { high = middle }
        }
        if low == levels.count || levels[low].priority != priority {
            levels.insert(Level(priority: priority, tasks: []), at: low)
        }
        return low
    }
}
