import DequeModule

/// Tasks waiting for a worker: ordered by priority (lower first), FIFO among equals.
///
/// Popping is "picky" as in Coq's TQueue: the first task in order that a predicate accepts.
struct PendingQueue {
    private var levels: [Int32: Deque<TaskRecord>] = [:]
    private var priorities: [Int32] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Appends `task` behind the tasks of its priority.
    mutating func append(_ task: TaskRecord) {
        insertLevel(task.priority)
        levels[task.priority, default: []].append(task)
        count += 1
    }

    /// Puts `task` ahead of the tasks of its priority (a retried task keeps its turn).
    mutating func prepend(_ task: TaskRecord) {
        insertLevel(task.priority)
        levels[task.priority, default: []].prepend(task)
        count += 1
    }

    /// Removes and returns the first task, in order, that `accepts`; scans at most `limit` tasks.
    mutating func removeFirst(limit: Int = .max, where accepts: (TaskRecord) -> Bool) -> TaskRecord? {
        var scanned = 0
        for priority in priorities {
            guard var level = levels[priority] else { continue }
            for index in level.indices {
                if scanned >= limit { return nil }
                scanned += 1
                if accepts(level[index]) {
                    let task = level.remove(at: index)
                    count -= 1
                    if level.isEmpty {
                        levels[priority] = nil
                        priorities.removeAll { $0 == priority }
                    } else {
                        levels[priority] = level
                    }
                    return task
                }
            }
        }
        return nil
    }

    /// Whether some task among the first `limit` satisfies `predicate`.
    func contains(limit: Int = .max, where predicate: (TaskRecord) -> Bool) -> Bool {
        var scanned = 0
        for priority in priorities {
            for task in levels[priority] ?? [] {
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
        for priority in priorities {
            guard let level = levels[priority] else { continue }
            var kept = Deque<TaskRecord>()
            for task in level {
                if predicate(task) { removed.append(task) } else { kept.append(task) }
            }
            levels[priority] = kept.isEmpty ? nil : kept
        }
        priorities.removeAll { levels[$0] == nil }
        count -= removed.count
        return removed
    }

    private mutating func insertLevel(_ priority: Int32) {
        guard levels[priority] == nil else { return }
        let position = priorities.firstIndex { $0 > priority } ?? priorities.endIndex
        priorities.insert(priority, at: position)
    }
}
