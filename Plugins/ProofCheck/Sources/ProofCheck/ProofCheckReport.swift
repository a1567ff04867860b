import MetamathKit

/// The end-of-run report: every failing proof with its repaired state, incomplete proofs, and
/// one summary line; as text or as one JSON object.
struct ProofCheckReport {
    var path: String
    var theorems: TheoremList
    var outcomes: OutcomeTable
    var failures: [Int: FailureRecord]
    var seconds: Double
    var workers: Int
    var checkedInMaster: Int
    var strict: Bool

    private var verified: Int { outcomes.count(.verified) }
    private var unchecked: Int { outcomes.count(.pending) }

    /// 0 when every proof verified (incomplete ones too unless strict), 1 otherwise.
    var exitStatus: Int32 {
        if !failures.isEmpty || outcomes.count(.lost) > 0 || unchecked > 0 { return 1 }
        if strict && outcomes.count(.incomplete) > 0 { return 1 }
        return 0
    }

    /// `FILE:LINE: theorem LABEL: step N (LABEL): message`, the stack, warnings, one summary line.
    func text() -> String {
        var lines: [String] = []
        for position in failures.keys.sorted() {
            let record = failures[position]!
            let theorem = theorems[position]
            let used = record.failure.label.isEmpty ? "" : " (\(record.failure.label))"
            lines.append("\(theorem.file):\(theorem.line): theorem \(Echo.text(theorem.label)): step \(record.failure.step)\(used): \(record.failure.message)")
            switch record.stack {
            case .success(let stack):
                lines.append("  proof stack before step \(record.failure.step):" + (stack.isEmpty ? " (empty)" : ""))
                for (index, entry) in stack.enumerated() { lines.append("    \(index + 1)  \(entry)") }
            case .failure(let reason):
                lines.append("  proof stack before step \(record.failure.step): unavailable (\(reason.message))")
            case nil:
                lines.append("  proof stack before step \(record.failure.step): not computed (the task ended first)")
            }
        }
        for (position, reason) in outcomes.lost {
            let theorem = theorems[position]
            lines.append("\(theorem.file):\(theorem.line): theorem \(Echo.text(theorem.label)): not verified: \(reason)")
        }
        for (position, unknown) in outcomes.incomplete {
            let theorem = theorems[position]
            lines.append("\(theorem.file):\(theorem.line): warning: theorem \(Echo.text(theorem.label)): proof incomplete (\(unknown) unknown step\(unknown == 1 ? "" : "s"))")
        }
        var summary = "proofcheck: \(path): \(theorems.count) proof\(theorems.count == 1 ? "" : "s"): \(verified) verified, "
            + "\(failures.count) failed, \(outcomes.count(.incomplete)) incomplete"
        if outcomes.count(.lost) > 0 { summary += ", \(outcomes.count(.lost)) lost" }
        if unchecked > 0 { summary += ", \(unchecked) not checked" }
        summary += " in \(Self.format(seconds)) s, \(workers) worker\(workers == 1 ? "" : "s")"
        if checkedInMaster > 0 { summary += ", \(checkedInMaster) checked in the master" }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// The same as one JSON object.
    func json() -> String {
        var errors: [String] = []
        for position in failures.keys.sorted() {
            let record = failures[position]!
            let theorem = theorems[position]
            var fields = [
                "\"file\":\(JSON.string(theorem.file))", "\"line\":\(theorem.line)",
                "\"theorem\":\(JSON.string(Echo.text(theorem.label)))", "\"step\":\(record.failure.step)",
                "\"label\":\(JSON.string(record.failure.label))", "\"message\":\(JSON.string(record.failure.message))",
            ]
            switch record.stack {
            case .success(let stack): fields.append("\"stack\":[\(stack.map(JSON.string).joined(separator: ","))]")
            case .failure(let reason): fields.append("\"stack\":null,\"stack_error\":\(JSON.string(reason.message))")
            case nil: fields.append("\"stack\":null")
            }
            errors.append("{\(fields.joined(separator: ","))}")
        }
        let incompleteItems = outcomes.incomplete.map { position, unknown in
            "{\"file\":\(JSON.string(theorems[position].file)),\"line\":\(theorems[position].line),"
                + "\"theorem\":\(JSON.string(Echo.text(theorems[position].label))),\"unknown_steps\":\(unknown)}"
        }
        let lostItems = outcomes.lost.map { position, reason in
            "{\"theorem\":\(JSON.string(Echo.text(theorems[position].label))),\"reason\":\(JSON.string(reason))}"
        }
        return "{\"file\":\(JSON.string(path)),\"proofs\":\(theorems.count),\"verified\":\(verified),"
            + "\"failed\":\(failures.count),\"incomplete\":\(outcomes.count(.incomplete)),\"lost\":\(outcomes.count(.lost)),"
            + "\"not_checked\":\(unchecked),\"seconds\":\(Self.format(seconds)),\"workers\":\(workers),"
            + "\"checked_in_master\":\(checkedInMaster),\"exit_status\":\(exitStatus),"
            + "\"errors\":[\(errors.joined(separator: ","))],\"incomplete_proofs\":[\(incompleteItems.joined(separator: ","))],"
            + "\"lost_proofs\":[\(lostItems.joined(separator: ","))]}"
    }

    /// Seconds with three decimals.
    static func format(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

/// Minimal JSON string encoding (the plugin does not link Foundation).
enum JSON {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
