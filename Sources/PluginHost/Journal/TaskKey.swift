/// A task's stable name across runs of the same command: its kind (by position in the run) and
/// its path of production, `[n]` for the n-th task the kind's `master_open` / `pull` pushed,
/// `parent + [n]` for the n-th task pushed while the host judged `parent`. A resumed run
/// produces its tasks again in the same order, so the same task gets the same key.
struct TaskKey: Hashable, Sendable, CustomStringConvertible {
    var kind: UInt16
    var path: [UInt64]

    /// The key of the `index`-th task pushed in the context of this one.
    func child(_ index: UInt64) -> TaskKey { TaskKey(kind: kind, path: path + [index]) }

    var description: String { "\(kind):" + path.map(String.init).joined(separator: ".") }
}
