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
    /// blank lines ignored. HOST is ``localName`` or a name ``isHostName(_:)`` accepts. Errors
    /// name the file and line.
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
            guard name == localName || isHostName(name) else {
                throw .usage("\(location): '\(printable(name))' is not a host name (expected [USER@]HOST with HOST "
                             + "a DNS name or ssh alias, an IPv4 address, or an IPv6 address, plain or in brackets)")
            }
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

    /// True for `[USER@]HOST`: USER of letters, digits, `.`, `_` and `-` (not first); HOST a DNS
    /// name or ssh alias (dot-separated labels of letters, digits, `_` and `-`, none starting
    /// with `-`), an IPv4 address, or an IPv6 address (hex digits, `:` and `.`, an optional
    /// `%ZONE`), plain or in brackets. Nothing a shell treats specially but brackets, so a host
    /// name cannot smuggle a command through a launcher.
    public static func isHostName(_ text: String) -> Bool {
        func all(_ part: Substring, _ allowed: (Character) -> Bool) -> Bool { part.allSatisfy(allowed) }
        func wordCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") }
        func ipv6(_ part: Substring) -> Bool {
            let pieces = part.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = pieces.first, address.filter({ $0 == ":" }).count >= 2,
                  all(address, { $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            return pieces.count == 1 || (!pieces[1].isEmpty && all(pieces[1], { wordCharacter($0) || $0 == "." }))
        }
        guard text.utf8.count <= 255 else { return false }
        var host = Substring(text)
        if let at = text.lastIndex(of: "@") {
            let user = text[..<at]
            guard !user.isEmpty, !user.hasPrefix("-"), all(user, { wordCharacter($0) || $0 == "." }) else { return false }
            host = text[text.index(after: at)...]
        }
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 { return ipv6(host.dropFirst().dropLast()) }
        if host.contains(":") { return ipv6(host) }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !host.isEmpty && labels.allSatisfy { !$0.isEmpty && !$0.hasPrefix("-") && all($0, wordCharacter) }
    }

    /// `text` with control characters written as `\xNN`, for an error message.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let digits = String(scalar.value, radix: 16)
                result += "\\x" + (digits.count < 2 ? "0" : "") + digits
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
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
