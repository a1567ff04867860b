import DequeModule

/// Values by task id, for ids that arrive roughly in increasing order (a run's tasks are
/// numbered as they are queued): a window of slots from the oldest id still held, so a lookup
/// is an index rather than a hash into a table as large as the queue (the trace of a run that
/// queues its 400,000 tasks at once). Ids far outside the window go to a dictionary, and so do
/// the oldest values of a window mostly empty (a task that never ends does not keep a slot for
/// every task after it).
struct TaskTable<Value> {
    /// The value of task `base + i` in `window[i]`.
    private var window: Deque<Value?> = []
    private var base: UInt64 = 0
    /// The values in the window.
    private var held = 0
    private var others: [UInt64: Value] = [:]

    /// The most slots the window grows by to take an id past its end.
    static var growthLimit: UInt64 { 1 << 16 }
    /// A window longer than this and four times its values gives its oldest to the dictionary.
    static var sparseLimit: Int { 1 << 16 }

    /// The value of task `id`, if held; setting nil removes it.
    subscript(id: UInt64) -> Value? {
        get {
            if id >= base, id - base < UInt64(window.count), let value = window[Int(id - base)] { return value }
            return others.isEmpty ? nil : others[id]
        }
        set {
            if !others.isEmpty, others[id] != nil {
                others[id] = newValue
                return
            }
            if window.isEmpty {
                guard newValue != nil else { return }
                base = id
            }
            if id >= base, id - base < UInt64(window.count) {
                let index = Int(id - base)
                held += (newValue != nil ? 1 : 0) - (window[index] != nil ? 1 : 0)
                window[index] = newValue
                trimFront()
            } else if newValue != nil, id >= base, id - base - UInt64(window.count) < Self.growthLimit {
                while UInt64(window.count) < id - base { window.append(nil) }
                window.append(newValue)
                held += 1
                while window.count > Self.sparseLimit && window.count > 4 * held, let oldest = window.removeFirst() {
                    others[base] = oldest
                    held -= 1
                    base += 1
                    trimFront()
                }
            } else if newValue != nil, id < base, base - id <= Self.growthLimit {
                // Just before the window (a task put back after the window moved past it): the
                // window grows at its front rather than sending the id to the dictionary.
                for _ in 1..<(base - id) { window.prepend(nil) }
                window.prepend(newValue)
                base = id
                held += 1
            } else if newValue != nil {
                others[id] = newValue
            }
        }
    }

    /// The slots in the window (for tests).
    var windowCount: Int { window.count }
    /// The values outside the window (for tests).
    var othersCount: Int { others.count }

    /// Drops the empty slots at the front.
    private mutating func trimFront() {
        while let first = window.first, first == nil {
            window.removeFirst()
            base += 1
        }
    }

    /// Removes and returns the value of task `id`.
    mutating func removeValue(forKey id: UInt64) -> Value? {
        let value = self[id]
        if value != nil { self[id] = nil }
        return value
    }
}
