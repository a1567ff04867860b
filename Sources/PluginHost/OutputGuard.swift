#if canImport(Glibc)
import Glibc
#endif

/// Refuses a run's output files that are the same file as one of its inputs, or as each other,
/// before anything is opened for writing.
///
/// The host does not know which of a plugin's arguments it reads, so every existing file named
/// by the run (the plugin's arguments, the value of each `--option=VALUE`, job and hosts files,
/// the plugin library itself, a regular file on standard input) counts as a possible input.
/// Files are compared by device and inode after symbolic links, so a symbolic or hard link to an
/// input is caught. An argument that names no file yet may be one the plugin creates (ParMap's
/// `--output`): an output at the same place (directory resolved, then the name) is refused too,
/// or both would write one file. Devices and FIFOs (`/dev/null`, `/dev/full`) are never refused.
///
/// ```swift
/// var guard = OutputGuard()
/// guard.addInputs(namedIn: arguments)
/// guard.addOutput(eventsPath, option: "--events")
/// try guard.check()   // before any output is opened
/// ```
public struct OutputGuard: Sendable {
    private var inputs: [(path: String, identity: FileIdentity)] = []
    private var outputs: [(path: String, option: String)] = []
    /// Arguments that name no file: the plugin may create one there.
    private var absentArguments: [String] = []

    /// An empty guard.
    public init() {}

    /// Counts `path` as a possible input, if it names an existing regular file.
    public mutating func addInput(_ path: String) {
        if let identity = FileIdentity.ofExistingRegularFile(path) { inputs.append((path, identity)) }
    }

    /// Counts every argument that names an existing regular file as a possible input, and the
    /// value of each `--option=VALUE` argument; one that names no file as a place where the
    /// plugin may create one.
    public mutating func addInputs(namedIn arguments: [String]) {
        func add(_ path: String) {
            if let identity = FileIdentity.ofExistingRegularFile(path) {
                inputs.append((path, identity))
            } else if access(path, F_OK) != 0 {
                absentArguments.append(path)
            }
        }
        for argument in arguments {
            add(argument)
            if argument.hasPrefix("-"), let equals = argument.firstIndex(of: "=") {
                add(String(argument[argument.index(after: equals)...]))
            }
        }
    }

    /// Counts standard input as a possible input when it is a regular file (`< FILE`).
    public mutating func addStandardInput() {
        if let identity = FileIdentity.ofStandardInput() { inputs.append(("standard input", identity)) }
    }

    /// An output the run will write, named in messages as `option path` (`--events out.jsonl`).
    public mutating func addOutput(_ path: String, option: String) {
        outputs.append((path, option))
    }

    /// Throws a one-line usage error for the first output that is the same file as an input or
    /// as an earlier output.
    public func check() throws(HostError) {
        var seen: [(identity: FileIdentity, output: (path: String, option: String))] = []
        for output in outputs {
            guard let identity = FileIdentity.ofOutput(output.path) else { continue }
            if let input = inputs.first(where: { $0.identity == identity }) {
                let same = input.path == output.path ? "is" : "is the same file as"
                throw .usage("\(output.option) \(output.path): \(same) the input \(input.path); refusing to overwrite it")
            }
            if let argument = absentArguments.first(where: { FileIdentity.path($0, wouldCreate: identity) }) {
                throw .usage("\(output.option) \(output.path): the plugin's arguments name the same file (\(argument)), "
                             + "which the plugin may write; refusing to share it")
            }
            if let earlier = seen.first(where: { $0.identity == identity }) {
                throw .usage("\(output.option) \(output.path) and \(earlier.output.option) \(earlier.output.path) are the same file")
            }
            seen.append((identity, output))
        }
    }
}
