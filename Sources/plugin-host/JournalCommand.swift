import ArgumentParser
import PluginHost

/// `plugin-host journal FILE`: what a run journal (`run --journal`) holds.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Show what a run journal (run --journal FILE) records.")

    @Argument(help: "The journal file.") var file: String

    func run() throws {
        let summary: JournalSummary
        do { summary = try JournalSummary(path: file) } catch { fail(error.description) }
        let e = summary.ends
        printLine("\(file): \(e.total) task ends (\(e.done) done, \(e.failed) failed, \(e.expired) expired); "
                  + "\(summary.tasks) tasks, \(summary.endedMoreThanOnce) ended more than once"
                  + (summary.checkpoints > 0 ? "; \(summary.checkpoints) checkpoints" : "")
                  + (summary.checkpoints > 0 ? summary.syncedCheckpoints.map { " (\($0) synced with their output)" } ?? "" : "")
                  + (summary.tornLastRecord ? "; a torn last record (a resume drops it)" : ""))
        let width = summary.identity.map(\.name.count).max() ?? 0
        for field in summary.identity { printLine("  " + field.name.padding(to: width + 2) + field.value) }
    }
}
