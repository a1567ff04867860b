// Embedding PluginHost: verify a Metamath database with the proofcheck task kind, two workers,
// the failures printed as they happen, the kind's report and the counts at the end.
// usage: library-example FILE.mm [PLUGIN-WORKER]
import Glibc        // exit
import PluginHost

let arguments = CommandLine.arguments
guard arguments.count == 2 || arguments.count == 3 else {
    print("usage: library-example FILE.mm [PLUGIN-WORKER]")
    exit(2)
}
var configuration = HostConfiguration(jobs: 2)
// plugin-worker is looked for beside this program unless it is named.
if arguments.count == 3 { configuration.workerExecutable = arguments[2] }
let run = PluginRun(configuration: configuration)
do {
    // The plugin directories: PLUGIN_HOST_PATH, this program's directory, ../lib/plugin-host.
    let catalog = PluginCatalog(probeExecutable: configuration.workerExecutable)
    try run.addKind(catalog.load("proofcheck"), arguments: [arguments[1]])
} catch {
    print("library-example: \(error)")   // one line: no such plugin, bad worker, bad database
    exit(2)
}
run.observe(.taskFailures) { event in
    if case .taskEnded(let task, _, let outcome, let message) = event.kind {
        print("task \(task) (\(event.taskName ?? "unnamed")) \(outcome): \(message ?? "")")
    }
}
run.start()
let report = run.waitUntilFinished()
for (_, text) in report.pluginReports { print(text) }
print("\(report.counts.done) tasks done, \(report.counts.failed) failed")
exit(report.exitStatus)
