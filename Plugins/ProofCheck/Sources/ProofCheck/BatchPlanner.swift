/// Splits a run of theorems into batches by estimated cost, so that workers stay busy to the end.
///
/// The default plan is guided self-scheduling: each batch takes a share of the cost that is
/// still unplanned (large batches first, smaller ones towards the end), but never less than a
/// floor of `1 / (workers * minimumShare)` of the total, so a worker's start-up stays small next
/// to its batch. One-shot workers start (map and check the image) once per batch, so they get
/// a lower `minimumShare` (larger batches). With `batchesPerWorker`, batches have equal cost
/// instead.
struct BatchPlanner {
    /// `prefix[i]` is the cost of theorems `0 ..< i`.
    private let prefix: [Int]
    private let workers: Int
    private let batchesPerWorker: Int?
    private let minimumShare: Int
    /// The first position not yet planned.
    private(set) var next = 0

    /// Plans batches over theorems whose costs are `costs`, for `workers` workers.
    init(costs: [Int], workers: Int, batchesPerWorker: Int?, minimumShare: Int = 12) {
        var prefix = [0]
        prefix.reserveCapacity(costs.count + 1)
        for cost in costs { prefix.append(prefix[prefix.count - 1] + max(1, cost)) }
        self.prefix = prefix
        self.workers = max(1, workers)
        self.batchesPerWorker = batchesPerWorker
        self.minimumShare = max(1, minimumShare)
    }

    /// How many theorems there are.
    var count: Int { prefix.count - 1 }
    /// Whether every theorem is in some batch.
    var isExhausted: Bool { next >= count }
    /// The total cost.
    var totalCost: Int { prefix[count] }

    /// The cost a batch aims at when `remaining` cost is unplanned.
    private func targetCost(remaining: Int) -> Int {
        if let batchesPerWorker {
            let batches = workers * batchesPerWorker
            return (totalCost + batches - 1) / batches
        }
        let floor = totalCost / (workers * minimumShare)
        return max(1, max(floor, remaining / (2 * workers)))
    }

    /// The next batch (first position and count), or `nil` once every theorem is planned.
    mutating func nextBatch() -> (first: Int, count: Int)? {
        guard next < count else { return nil }
        let start = prefix[next]
        let goal = start + targetCost(remaining: totalCost - start)
        // The first position whose prefix reaches the goal: binary search.
        var low = next + 1, high = count
        while low < high {
            let middle = (low + high) / 2
            if prefix[middle] >= goal { high = middle } else { low = middle + 1 }
        }
        let first = next
        next = low
        return (first, low - first)
    }
}
