/// A plugin log level as `--log-level` names it; the raw value is the ABI's (`ph_master_host.log`).
enum LogLevel: Int, CaseIterable {
    case debug = 0, info, warning, error

    /// The level named `name` (debug, info, warning or error), nil for another word.
    init?(_ name: String) {
        guard let level = Self.allCases.first(where: { "\($0)" == name }) else { return nil }
        self = level
    }
}
