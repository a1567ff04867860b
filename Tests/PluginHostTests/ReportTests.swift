// `plugin-host report`: the HTML page of a chaos run holds what its events say, and nothing
// that needs the network. (Tests/Integration/report-browser.sh renders it in a real browser.)
import Foundation
import PluginHost
import TestSupport
import Testing

@Suite("HTML report")
struct ReportTests {
    @Test("report: counts by outcome, every failed task with its name and reason, deaths; self-contained")
    func reportOfChaosRun() async throws {
        let directory = TemporaryDirectory()
        let events = directory.file("events.jsonl"), page = directory.file("run.html")
        let run = try await HostProcess.run(["run", "-j", "3", "--retries", "1", "--events", events, "chaos"] + TraceTests.chaosTasks
            + ["fail:<b>bad</b> & \"quoted\""])
        #expect(run.status == 1, "stderr: \(run.stderr)")
        let result = try await HostProcess.run(["report", events, "-o", page])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let log = try TraceTests.events(events)

        let ended = log.filter { $0["event"] as? String == "task-ended" }
        #expect(html.contains("<span id=\"total-tasks\">\(ended.count)</span>"))
        #expect(html.contains("<span id=\"total-attempts\">\(log.filter { $0["event"] as? String == "task-started" }.count)</span>"))
        for outcome in TaskOutcome.allCases {
            let count = ended.filter { $0["outcome"] as? String == outcome.rawValue }.count
            #expect(html.contains("<td data-outcome=\"\(outcome.rawValue)\">\(count)</td>"), "\(outcome)")
        }
        let failed = ended.filter { ["failed", "expired", "cancelled"].contains($0["outcome"] as! String) }
        #expect(failed.count >= 5)
        #expect(html.components(separatedBy: "<tr class=\"failed-task\"").count - 1 == failed.count)
        for task in failed {
            #expect(html.contains("data-task=\"\(task["task"] as! Int)\""))
        }
        #expect(html.contains("<td class=\"name\">#1 segv</td>"))
        #expect(html.contains("was killed by signal 11 (SIGSEGV)"))
        // Text from the run is escaped: the plugin's message cannot inject markup.
        #expect(html.contains("&lt;b&gt;bad&lt;/b&gt; &amp; &quot;quoted&quot;"))
        #expect(!html.contains("<b>bad</b>"))
        let deaths = log.filter { $0["event"] as? String == "worker-ended" && !WorkerEndReason.isPlanned($0["reason"] as! String) }
        #expect(html.contains("<span id=\"worker-deaths\">\(deaths.count)</span>"))
        #expect(html.components(separatedBy: "<tr class=\"death\">").count - 1 == deaths.count)
        // Self-contained: no external script, style sheet, image or URL.
        for outside in ["src=", "href=", "http://", "https://", "@import", "url("] {
            #expect(!html.contains(outside), "\(outside)")
        }
    }

    @Test("report of a run cut short: its unfinished tasks are counted and their attempts drawn to the end")
    func cutShortRun() async throws {
        let directory = TemporaryDirectory()
        let events = directory.write("events.jsonl", """
            {"time":0.01,"event":"task-queued","task":1,"kind":"chaos","name":"#0 hang"}
            {"time":0.02,"event":"worker-started","worker":"chaos:0:1","pid":10,"startup":0.01}
            {"time":0.03,"event":"task-started","task":1,"worker":"chaos:0:1","attempt":1}
            {"time":0.5,"event":"feedback","worker":"chaos:0:1","task":1,"bytes":3}

            """)
        let page = directory.file("run.html")
        let result = try await HostProcess.run(["report", events, "-o", page])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<span id=\"unfinished\">1</span>"))
        #expect(html.contains("<span id=\"total-tasks\">0</span>"))
        #expect(html.contains("\"start\":[30000],\"end\":[500000]"))
    }
}
