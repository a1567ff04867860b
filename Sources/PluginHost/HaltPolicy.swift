/// When a run stops early on its own tasks' outcomes: GNU parallel's `--halt WHEN,WHY=N` (or
/// `=P%`).
///
/// `now` cancels the running tasks at once (their workers get SIGTERM, then SIGKILL after the
/// grace period); `soon` starts no task any more and lets the running ones finish. Either way
/// every task not run ends `cancelled` with the reason `halted`. `fail` counts the tasks that
/// ended `failed` or `expired`, `success` those that ended `done`, `done` every task that ended.
/// A count `N` halts once that many are counted; a percentage `P%` halts once they are at least
/// `P` % of the run's tasks (GNU parallel's rule, where the total is every job of the input):
/// here, of every task the run has so far, queued, running or ended (for a kind that pulls its
/// input lazily, the tasks pulled so far).
public struct HaltPolicy: Sendable, Equatable, CustomStringConvertible {
    /// What happens to the running tasks when the halt comes.
    public enum When: String, Sendable {
        /// Cancel them at once.
        case now
        /// Let them finish; start no other task.
        case soon
    }

    /// Which ended tasks count towards the halt.
    public enum Counted: String, Sendable {
        /// Tasks that ended `failed` or `expired`.
        case fail
        /// Tasks that ended `done`.
        case success
        /// Every task that ended, whatever its outcome.
        case done
    }

    /// How many counted tasks halt the run.
    public enum Threshold: Sendable, Equatable {
        /// This many tasks (at least 1).
        case tasks(Int)
        /// This percentage (1 to 100) of the run's tasks.
        case percent(Int)
    }

    /// What happens to the running tasks when the halt comes.
    public var when: When
    /// Which ended tasks count.
    public var counted: Counted
    /// How many counted tasks halt the run.
    public var threshold: Threshold

    /// A policy from its parts.
    public init(when: When, counted: Counted, threshold: Threshold) {
        self.when = when
        self.counted = counted
        self.threshold = threshold
    }

    /// Parses `--halt`'s value: `never` (nil), `now|soon,fail|success|done=N` or `=P%`, and GNU
    /// parallel's short forms `0` (never), `1` (soon,fail=1), `2` (now,fail=1), `-1`
    /// (soon,success=1), `-2` (now,success=1) and `P%` (soon,fail=P%).
    public static func parse(_ text: String) throws(HostError) -> HaltPolicy? {
        func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        let shortForms = ["0": "never", "1": "soon,fail=1", "2": "now,fail=1", "-1": "soon,success=1", "-2": "now,success=1"]
        var long = shortForms[text] ?? text
        if long.hasSuffix("%"), long.dropLast().allSatisfy(isDigit) { long = "soon,fail=" + long }
        if long == "never" { return nil }
        let usage = HostError.usage("--halt takes never, or now or soon, then fail, success or done, then =N or =P% "
                                    + "(e.g. now,fail=1 or soon,fail=10%), not '\(text)'")
        let parts = long.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let when = When(rawValue: String(parts[0])) else { throw usage }
        let rule = parts[1].split(separator: "=", omittingEmptySubsequences: false)
        guard rule.count == 2, let counted = Counted(rawValue: String(rule[0])) else { throw usage }
        var digits = rule[1]
        let isPercent = digits.hasSuffix("%")
        if isPercent { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(isDigit), let value = Int(digits), value >= 1
        else { throw usage }
        if isPercent && value > 100 { throw usage }
        return HaltPolicy(when: when, counted: counted, threshold: isPercent ? .percent(value) : .tasks(value))
    }

    /// The ended tasks this policy counts among `counts`.
    public func counted(in counts: OutcomeCounts) -> Int {
        switch counted {
        case .fail: return counts.failed + counts.expired
        case .success: return counts.done
        case .done: return counts.total
        }
    }

    /// True when `counts`, out of `tasks` tasks the run has so far, call for the halt.
    public func isReached(_ counts: OutcomeCounts, tasks: Int) -> Bool {
        let counted = counted(in: counts)
        switch threshold {
        case .tasks(let limit): return counted >= limit
        case .percent(let percent): return counted > 0 && counted * 100 >= tasks * percent
        }
    }

    /// The policy as `--halt` takes it, e.g. `soon,fail=10%`.
    public var description: String {
        switch threshold {
        case .tasks(let limit): return "\(when.rawValue),\(counted.rawValue)=\(limit)"
        case .percent(let percent): return "\(when.rawValue),\(counted.rawValue)=\(percent)%"
        }
    }
}
