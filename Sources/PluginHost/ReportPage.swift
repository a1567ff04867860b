#if canImport(Glibc)
import Glibc
#endif

/// `plugin-host report`: one self-contained HTML page of a run (inline CSS, script and data; no
/// network). Tables (tasks by kind and outcome, slowest attempts, every failed task with its
/// reason, worker deaths, host trouble) are plain HTML; the timeline of worker lanes, the busy
/// workers, the per-kind throughput and the task-duration distribution are drawn on canvases
/// from aggregated data, so a run of a million events stays a page of a few MB that draws at once.
public enum ReportPage {
    /// Failed tasks listed at most (the count says how many there were).
    public static let failedRowLimit = 10_000
    /// Worker deaths listed at most.
    public static let deathRowLimit = 1_000
    /// Slowest attempts listed.
    public static let slowestRowCount = 25
    /// Time bins of the busy-workers and throughput charts.
    static let timeBins = 400

    /// The page for `history`, read from `source` (shown in the title).
    public static func html(_ history: RunHistory, source: String) -> String {
        let history = history.closingOpenAttempts()
        var page = ""
        page.reserveCapacity(history.attempts.count * 40 + 200_000)
        let duration = max(history.duration, 1e-6)
        page += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        page += "<title>plugin-host run: \(escape(source))</title><style>\(ReportPageAssets.style)</style></head><body>\n"
        page += "<h1>plugin-host run <span class=\"source\">\(escape(source))</span></h1>\n"
        page += "<p class=\"overview\"><span id=\"total-tasks\">\(history.tasks.count)</span> tasks in \(seconds(history.duration)), "
            + "<span id=\"total-attempts\">\(history.attempts.count)</span> attempts, "
            + "<span id=\"workers-started\">\(history.workersStarted)</span> workers started, "
            + "<span id=\"worker-deaths\">\(history.deaths.count)</span> died or killed, "
            + "<span id=\"feedback-count\">\(history.feedbackMessages)</span> feedback messages, \(history.eventCount) events"
            + (history.unfinishedTasks > 0 ? ", <span id=\"unfinished\">\(history.unfinishedTasks)</span> tasks never ended (a run cut short)" : "")
            + ".</p>\n"
        summary(history, duration: duration, into: &page)
        page += """
            <h2>Timeline</h2><p class="hint">One lane per worker slot; tasks coloured by outcome, ▼ a worker that died or was killed. \
            Drag to zoom, double-click to zoom out. <span id="legend"></span></p>
            <div class="chart"><canvas id="timeline"></canvas><div id="tip"></div></div>
            <p class="hint">Drawn: <span id="drawn-attempts">0</span> attempts, <span id="drawn-deaths">0</span> deaths.</p>
            <h2>Workers busy</h2><div class="chart"><canvas id="busy"></canvas></div>
            <h2>Throughput by kind (tasks ended per second)</h2><div class="chart"><canvas id="throughput"></canvas></div>
            <h2>Task-attempt durations by kind</h2><div class="chart"><canvas id="durations"></canvas></div>

            """
        slowest(history, into: &page)
        failed(history, into: &page)
        deaths(history, into: &page)
        page += "<script id=\"data\" type=\"application/json\">"
        data(history, duration: duration, into: &page)
        page += "</script>\n<script>\(ReportPageAssets.script)</script>\n</body></html>\n"
        return page
    }

    private static func summary(_ history: RunHistory, duration: Double, into page: inout String) {
        page += "<h2>Tasks by kind</h2><table id=\"summary\"><tr><th>kind</th><th>tasks</th>"
        for outcome in TaskOutcome.allCases { page += "<th>\(outcome.rawValue)</th>" }
        page += "<th>attempts lost</th><th>tasks/s</th><th>median</th><th>p90</th><th>max</th></tr>\n"
        var byKind: [String: (counts: OutcomeCounts, elapsed: [Double])] = [:]
        for task in history.tasks {
            byKind[task.result.kind, default: (OutcomeCounts(), [])].counts.record(task.result.outcome)
            if task.result.outcome == .done { byKind[task.result.kind, default: (OutcomeCounts(), [])].elapsed.append(task.elapsed) }
        }
        var lost = [Int](repeating: 0, count: history.kinds.count)
        for (index, end) in history.attempts.outcome.enumerated() where end == .lost { lost[Int(history.attempts.kind[index])] += 1 }
        for (kindIndex, kind) in history.kinds.enumerated() {
            guard var row = byKind[kind] else { continue }
            row.elapsed.sort()
            let k = escape(kind)
            page += "<tr data-kind=\"\(k)\"><td>\(k)</td><td class=\"tasks\">\(row.counts.total)</td>"
            for outcome in TaskOutcome.allCases {
                page += "<td data-outcome=\"\(outcome.rawValue)\">\(row.counts[outcome])</td>"
            }
            page += "<td class=\"lost\">\(lost[kindIndex])</td><td>\(rate(Double(row.counts.total) / duration))</td>"
            for quantile in [0.5, 0.9, 1.0] {
                let value = row.elapsed.isEmpty ? nil : row.elapsed[min(row.elapsed.count - 1, Int(Double(row.elapsed.count - 1) * quantile + 0.5))]
                page += "<td>\(value.map(seconds) ?? "–")</td>"
            }
            page += "</tr>\n"
        }
        page += "</table>\n<p class=\"hint\">Durations: first start to end of the tasks done.</p>\n"
    }

    private static func slowest(_ history: RunHistory, into page: inout String) {
        let attempts = history.attempts
        var top: [(duration: Double, index: Int)] = []
        for index in 0..<attempts.count {
            let duration = attempts.end[index] - attempts.start[index]
            if top.count < slowestRowCount {
                top.append((duration, index))
                if top.count == slowestRowCount { top.sort { $0.duration > $1.duration } }
            } else if duration > top[top.count - 1].duration {
                top[top.count - 1] = (duration, index)
                var position = top.count - 1
                while position > 0, top[position].duration > top[position - 1].duration {
                    top.swapAt(position, position - 1)
                    position -= 1
                }
            }
        }
        top.sort { $0.duration > $1.duration }
        let wanted = Set(top.map { attempts.task[$0.index] })
        var names: [UInt64: String] = [:]
        for task in history.tasks where wanted.contains(task.result.id) { names[task.result.id] = task.result.name }
        page += "<h2>Slowest task attempts</h2><table id=\"slowest\"><tr><th>duration</th><th>task</th><th>kind</th><th>name</th>"
            + "<th>attempt</th><th>worker</th><th>outcome</th><th>start</th></tr>\n"
        for (duration, index) in top {
            let task = attempts.task[index]
            page += "<tr><td>\(seconds(duration))</td><td>\(task)</td><td>\(escape(history.kinds[Int(attempts.kind[index])]))</td>"
                + "<td>\(escape(names[task] ?? ""))</td><td>\(attempts.number[index])</td>"
                + "<td>\(escape(history.workers[Int(attempts.worker[index])]))</td><td class=\"\(attempts.outcome[index].name)\">"
                + "\(attempts.outcome[index].name)</td><td>\(seconds(attempts.start[index]))</td></tr>\n"
        }
        page += "</table>\n"
    }

    private static func failed(_ history: RunHistory, into page: inout String) {
        let failed = history.tasks.filter { [.failed, .expired, .cancelled].contains($0.result.outcome) }
        page += "<h2>Failed, expired and cancelled tasks (<span id=\"failed-count\">\(failed.count)</span>)</h2>"
            + "<table id=\"failed\"><tr><th>task</th><th>kind</th><th>name</th><th>outcome</th><th>attempts</th><th>at</th><th>reason</th></tr>\n"
        for task in failed.prefix(failedRowLimit) {
            page += "<tr class=\"failed-task\" data-task=\"\(task.result.id)\"><td>\(task.result.id)</td><td>\(escape(task.result.kind))</td>"
                + "<td class=\"name\">\(escape(task.result.name ?? ""))</td><td class=\"\(task.result.outcome.rawValue)\">\(task.result.outcome.rawValue)</td>"
                + "<td>\(task.result.attempts)</td><td>\(seconds(task.end))</td><td class=\"reason\">\(escape(task.result.message ?? ""))</td></tr>\n"
        }
        page += "</table>\n"
        if failed.count > failedRowLimit {
            page += "<p class=\"hint\">and \(failed.count - failedRowLimit) more: see the events file.</p>\n"
        }
    }

    private static func deaths(_ history: RunHistory, into page: inout String) {
        page += "<h2>Worker deaths and kills (\(history.deaths.count))</h2><table id=\"deaths\"><tr><th>at</th><th>worker</th><th>reason</th></tr>\n"
        for death in history.deaths.prefix(deathRowLimit) {
            page += "<tr class=\"death\"><td>\(seconds(death.time))</td><td>\(escape(death.worker))</td><td class=\"reason\">\(escape(death.reason))</td></tr>\n"
        }
        page += "</table>\n"
        if history.deaths.count > deathRowLimit { page += "<p class=\"hint\">and \(history.deaths.count - deathRowLimit) more.</p>\n" }
        if !history.spawnFailures.isEmpty || !history.hostTrouble.isEmpty {
            page += "<h2>Spawn failures and hosts</h2><table id=\"trouble\"><tr><th>at</th><th>what</th><th>message</th></tr>\n"
            for failure in history.spawnFailures.prefix(deathRowLimit) {
                page += "<tr><td>\(seconds(failure.time))</td><td>spawn failed (\(escape(failure.kind)))</td><td>\(escape(failure.message))</td></tr>\n"
            }
            for trouble in history.hostTrouble.prefix(deathRowLimit) {
                page += "<tr><td>\(seconds(trouble.time))</td><td>host \(escape(trouble.host)) \(trouble.dropped ? "dropped" : "down")</td>"
                    + "<td>\(escape(trouble.message))</td></tr>\n"
            }
            page += "</table>\n"
        }
    }

    /// The canvases' data: attempts column by column (times in microseconds), deaths, and the
    /// aggregated series.
    private static func data(_ history: RunHistory, duration: Double, into page: inout String) {
        let attempts = history.attempts
        page += "{\"duration\":\(micros(duration)),\"lanes\":\(history.laneCount),\"kinds\":["
        page += history.kinds.map { scriptString($0) }.joined(separator: ",")
        page += "],\"outcomes\":[" + RunHistory.AttemptEnd.allCases.map { "\"\($0.name)\"" }.joined(separator: ",") + "]"
        page += ",\"start\":["; list(attempts.start.lazy.map(micros), into: &page)
        page += "],\"end\":["; list(attempts.end.lazy.map(micros), into: &page)
        page += "],\"lane\":["; list(attempts.slot.lazy.map { String($0) }, into: &page)
        page += "],\"outcome\":["; list(attempts.outcome.lazy.map { String($0.rawValue) }, into: &page)
        page += "],\"kind\":["; list(attempts.kind.lazy.map { String($0) }, into: &page)
        page += "],\"task\":["; list(attempts.task.lazy.map { String($0) }, into: &page)
        page += "],\"deaths\":["; list(history.deaths.lazy.map { "[\(micros($0.time)),\($0.slot)]" }, into: &page)
        // Busy workers: the mean number of attempts running in each time bin.
        let bin = duration / Double(timeBins)
        var busy = [Double](repeating: 0, count: timeBins)
        var ended = [[Int]](repeating: [Int](repeating: 0, count: timeBins), count: max(history.kinds.count, 1))
        var histogram = [[Int]](repeating: [Int](repeating: 0, count: durationEdges.count + 1), count: max(history.kinds.count, 1))
        for index in 0..<attempts.count {
            let start = attempts.start[index], end = attempts.end[index]
            var cell = min(Int(start / bin), timeBins - 1)
            while cell < timeBins {
                let low = Double(cell) * bin, high = low + bin
                busy[cell] += max(0, min(end, high) - max(start, low)) / bin
                if end <= high { break }
                cell += 1
            }
            let kind = Int(attempts.kind[index])
            ended[kind][min(Int(end / bin), timeBins - 1)] += 1
            let length = end - start
            var edge = 0
            while edge < durationEdges.count, length >= durationEdges[edge] { edge += 1 }
            histogram[kind][edge] += 1
        }
        page += "],\"bin\":\(micros(bin)),\"busy\":["; list(busy.lazy.map { String(($0 * 1000).rounded() / 1000) }, into: &page)
        page += "],\"ended\":[" + ended.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",")
        page += "],\"edges\":[" + durationEdges.map(micros).joined(separator: ",")
        page += "],\"histogram\":[" + histogram.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",")
        page += "]}"
    }

    /// Attempt-duration histogram edges, in seconds: 10 µs to 1000 s, five per decade.
    static let durationEdges: [Double] = (0...40).map { step in 1e-5 * pow(10, Double(step) / 5) }

    private static func list<S: Sequence<String>>(_ values: S, into page: inout String) {
        var first = true
        for value in values {
            if !first { page += "," }
            page += value
            first = false
        }
    }

    /// Seconds as whole microseconds.
    private static func micros(_ seconds: Double) -> String {
        let value = (seconds * 1e6).rounded()
        return value.isFinite && abs(value) < 9e18 ? String(Int64(value)) : "0"
    }

    /// A JSON string safe inside a `<script>` element.
    private static func scriptString(_ text: String) -> String {
        var encoded = ""
        for scalar in JSONValue.string(text).encoded.unicodeScalars {
            switch scalar {
            case "<": encoded += "\\u003c"
            case ">": encoded += "\\u003e"
            case "&": encoded += "\\u0026"
            default: encoded.unicodeScalars.append(scalar)
            }
        }
        return encoded
    }

    /// Text safe inside HTML elements and quoted attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A duration for people: `12 µs`, `3.4 ms`, `1.25 s`, `2 min 05 s`.
    static func seconds(_ value: Double) -> String {
        func rounded(_ number: Double) -> String {
            let digits = number >= 100 ? 0 : number >= 10 ? 1 : 2
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let text = String((number * scale).rounded() / scale)
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        if value < 1e-3 { return rounded(value * 1e6) + " µs" }
        if value < 1 { return rounded(value * 1e3) + " ms" }
        if value < 120 { return rounded(value) + " s" }
        let whole = Int(value.rounded())
        let secondsPart = whole % 60
        return "\(whole / 60) min " + (secondsPart < 10 ? "0" : "") + "\(secondsPart) s"
    }

    /// Tasks per second for people.
    private static func rate(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String((value * 100).rounded() / 100)
    }
}
