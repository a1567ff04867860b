/// A machine that runs workers, and how many at once: one line of a hosts file.
public struct WorkerHost: Sendable, Equatable {
    /// The name given to the launcher's `{host}` placeholder (`user@machine`, an ssh alias…);
    /// ``WorkerHost/localName`` is this machine, whose workers are spawned directly.
    public var name: String
    /// Workers this host runs at once.
    public var slots: Int

    /// The name of the master's own machine in a hosts file (as in GNU parallel).
    public static let localName = ":"

    /// Creates a host entry.
    public init(name: String, slots: Int) {
        self.name = name
        self.slots = slots
    }

    /// True for the master's own machine, whose workers skip the launcher.
    public var isLocal: Bool { name == WorkerHost.localName }

    /// Parses a hosts file: one `HOST [SLOTS]` per line (SLOTS defaults to 1), `#` comments and
    /// blank lines ignored. Errors name the file and line.
    public static func parseHostsFile(_ text: String, path: String) throws(HostError) -> [WorkerHost] {
        var hosts: [WorkerHost] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let location = "\(path):\(lineNumber)"
            guard fields.count <= 2 else {
                throw .usage("\(location): expected 'HOST [SLOTS]', found \(fields.count) fields")
            }
            let name = String(fields[0])
            guard !name.hasPrefix("-") else { throw .usage("\(location): a host name cannot start with '-': \(name)") }
            var slots = 1
            if fields.count == 2 {
                guard let value = Int(fields[1]), value >= 1, value <= 4096 else {
                    throw .usage("\(location): slots must be a number from 1 to 4096, found '\(fields[1])'")
                }
                slots = value
            }
            guard !hosts.contains(where: { $0.name == name }) else {
                throw .usage("\(location): host \(name) is listed twice")
            }
            hosts.append(WorkerHost(name: name, slots: slots))
        }
        guard !hosts.isEmpty else { throw .usage("\(path): no hosts listed") }
        return hosts
    }

    /// The host of each slot for a budget of `jobs` slots: hosts take turns, so a smaller budget
    /// still spreads over every host; a host gets no more slots than it has.
    public static func slotAssignment(_ hosts: [WorkerHost], jobs: Int) -> [Int] {
        var assignment: [Int] = []
        var given = Array(repeating: 0, count: hosts.count)
        while assignment.count < jobs {
            var progressed = false
            for (index, host) in hosts.enumerated() where given[index] < host.slots && assignment.count < jobs {
                given[index] += 1
                assignment.append(index)
                progressed = true
            }
            if !progressed { break }
        }
        return assignment
    }
}
