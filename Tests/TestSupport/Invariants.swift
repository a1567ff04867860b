// The invariants every run must satisfy: each task ends exactly once, counts add up, every worker process is gone.
import PluginHost
import Testing

/// Every run: each queued task ends exactly once, nothing ends that was not queued, the report's
/// counts equal the ended events and the number of queued tasks, results match, each started
/// worker ended once, and every worker process is gone.
public func expectInvariants(_ report: RunReport, _ log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) {
    let kinds = log.kinds
    var queued: [UInt64: Int] = [:]
    var ended: [UInt64: Int] = [:]
    var endedCounts = OutcomeCounts()
    var startedAfterEnd: [UInt64] = []
    for kind in kinds {
        switch kind {
        case .taskQueued(let task, _, _, _): queued[task, default: 0] += 1
        case .taskEnded(let task, _, let outcome, _):
            ended[task, default: 0] += 1
            endedCounts.record(outcome)
        case .taskStarted(let task, _, _):
            if ended[task] != nil { startedAfterEnd.append(task) }
        default: break
        }
    }
    let duplicatesQueued = queued.filter { $0.value != 1 }.keys.sorted()
    #expect(duplicatesQueued.isEmpty, "tasks queued more than once: \(duplicatesQueued)", sourceLocation: sourceLocation)
    let notEndedOnce = queued.keys.filter { ended[$0] != 1 }.sorted()
    #expect(notEndedOnce.isEmpty, "tasks that did not end exactly once: \(notEndedOnce.map { "\($0)×\(ended[$0] ?? 0)" })",
            sourceLocation: sourceLocation)
    let endedUnqueued = ended.keys.filter { queued[$0] == nil }.sorted()
    #expect(endedUnqueued.isEmpty, "tasks that ended without being queued: \(endedUnqueued)", sourceLocation: sourceLocation)
    #expect(startedAfterEnd.isEmpty, "tasks started after they ended: \(startedAfterEnd)", sourceLocation: sourceLocation)
    #expect(report.counts.total == queued.count, "report counts \(report.counts.total) tasks, \(queued.count) were queued",
            sourceLocation: sourceLocation)
    #expect(report.counts == endedCounts, "report counts \(report.counts) differ from the ended events \(endedCounts)",
            sourceLocation: sourceLocation)
    if !report.results.isEmpty || report.counts.total == 0 {
        #expect(report.results.count == report.counts.total, sourceLocation: sourceLocation)
        #expect(Set(report.results.map(\.id)) == Set(queued.keys), sourceLocation: sourceLocation)
    }
    // Workers: every one that started also ended, once.
    var live: [String: Int] = [:]
    for kind in kinds {
        if case .workerStarted(let name, _, _) = kind { live[name, default: 0] += 1 }
        if case .workerEnded(let name, _) = kind { live[name, default: 0] -= 1 }
    }
    let unbalanced = live.filter { $0.value != 0 }
    #expect(unbalanced.isEmpty, "workers started and ended unevenly: \(unbalanced)", sourceLocation: sourceLocation)
    expectNoWorkerLeft(log, sourceLocation: sourceLocation)
}

/// Every worker process seen in `log` is gone (not alive, not a zombie).
public func expectNoWorkerLeft(_ log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) {
    let left = log.workersStarted.filter { ProcessProbe.isAlive(pid: $0.pid, name: $0.name) }
    #expect(left.isEmpty, "worker processes left behind: \(left.map { "\($0.name) pid \($0.pid)" })",
            sourceLocation: sourceLocation)
}
