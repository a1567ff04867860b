import ArgumentParser
import PluginHost
import PluginProtocol

/// `plugin-host check FILE`: loads a plugin safely, validates its descriptor and prints what the
/// host sees, or one line per problem (exit 2).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Load a plugin file, validate its descriptor and show what the host sees.")

    @Argument(help: "A path to a plugin library (.so or .so.N).") var file: String

    func run() throws {
        let (inspection, problems) = PluginCatalog().check(path: file)
        guard let inspection else {
            for problem in problems { printLine("plugin-host: error: \(problem)", toStandardError: true) }
            exitProcess(2)
        }
        let host = PluginLibrary.hostABI
        let present = inspection.callbacks.filter(\.present).map(\.name)
        let optional = present.filter { !PluginInspection.requiredCallbacks.contains($0) }
        let absent = inspection.callbacks.filter { !$0.present }.map(\.name)
        let rows: [(String, String)] = [
            ("file", inspection.path),
            ("name", inspection.name),
            ("version", inspection.version),
            ("ABI", "\(inspection.abiMajor).\(inspection.abiMinor) (host \(host.major).\(host.minor))"),
            ("policy", inspection.defaultPolicy + " (default)"),
            ("description", inspection.summary),
            ("required", PluginInspection.requiredCallbacks.joined(separator: " ")),
            ("optional", optional.isEmpty ? "none" : optional.joined(separator: " ")),
            ("absent", absent.isEmpty ? "none" : absent.joined(separator: " ")),
            ("extensions", !present.contains("get_extension") ? "none (no get_extension)"
                : inspection.pluginExtensions.isEmpty ? "get_extension set; offers none of "
                    + PluginInspection.knownPluginExtensions.joined(separator: " ")
                : inspection.pluginExtensions.joined(separator: " ")),
            ("digest", PluginDigest.hex(inspection.digest)),
            ("build id", inspection.buildID ?? "none"),
        ]
        for (label, value) in rows { printLine(label.padding(to: 12) + value) }
        printLine("usage")
        for line in inspection.usage.split(separator: "\n", omittingEmptySubsequences: false).reversed()
            .drop(while: \.isEmpty).reversed() { printLine("  " + line) }
    }
}
