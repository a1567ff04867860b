/// Numbers for people: `12.3k`, `4.5 MB`, `2 min 05 s`.
enum HumanUnits {
    /// `count` with a k, M or G suffix above a thousand: `950`, `12.3k`, `4.50M`.
    static func count(_ value: Double) -> String {
        scaled(value, steps: ["", "k", "M", "G", "T"], base: 1000, separator: "")
    }

    /// A number of bytes in decimal units: `950 B`, `12.3 kB`, `4.50 MB`.
    static func bytes(_ value: Double) -> String {
        scaled(value, steps: ["B", "kB", "MB", "GB", "TB"], base: 1000, separator: " ")
    }

    /// `done` of `total` (nil: unknown) `unit`: `4.50 MB/12.0 MB` for bytes (a unit named bytes
    /// or B), `1.20k/? proofs` otherwise.
    static func progress(done: UInt64, total: UInt64?, unit: String) -> String {
        if isBytes(unit) { return bytes(Double(done)) + "/" + (total.map { bytes(Double($0)) } ?? "?") }
        return count(Double(done)) + "/" + (total.map { count(Double($0)) } ?? "?") + " " + unit
    }

    /// A rate of `unit` per second: `4.50 MB/s`, `12.3k/s`.
    static func rate(_ value: Double, unit: String) -> String {
        (isBytes(unit) ? bytes(value) : count(value)) + "/s"
    }

    /// Whole seconds as `42 s`, `2 min 05 s` or `3 h 07 min`.
    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(twoDigits(seconds % 60)) s" }
        return "\(seconds / 3600) h \(twoDigits(seconds / 60 % 60)) min"
    }

    /// `count` followed by `noun`, plural unless the count is one: `1 task`, `3 tasks`.
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    private static func isBytes(_ unit: String) -> Bool {
        ["bytes", "byte", "B"].contains(unit)
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Three significant digits at most once scaled: 1.23, 12.3, 123.
    private static func scaled(_ value: Double, steps: [String], base: Double, separator: String) -> String {
        guard value.isFinite, value >= 0 else { return "?" }
        var scaled = value
        var step = 0
        while scaled >= base * 0.9995 && step < steps.count - 1 {
            scaled /= base
            step += 1
        }
        let digits = step == 0 ? 0 : scaled < 10 ? 2 : scaled < 100 ? 1 : 0
        return fixed(scaled, digits: digits) + separator + steps[step]
    }

    private static func fixed(_ value: Double, digits: Int) -> String {
        var factor = 1.0
        for _ in 0..<digits { factor *= 10 }
        let whole = Int((value * factor).rounded())
        guard digits > 0 else { return String(whole) }
        let integer = whole / Int(factor)
        var fraction = String(whole % Int(factor))
        while fraction.count < digits { fraction = "0" + fraction }
        return "\(integer).\(fraction)"
    }
}
