/// A worker's name, `KIND:SLOT:UID` (the uid is never reused in a run), as events carry it.
public enum WorkerName {
    /// The worker slot in `name`, or nil for a name of another shape.
    public static func slot(of name: String) -> Int? {
        let parts = name.split(separator: ":")
        guard parts.count >= 3 else { return nil }
        return Int(parts[parts.count - 2])
    }
}
