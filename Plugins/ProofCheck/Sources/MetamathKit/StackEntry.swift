/// One entry of the proof stack: a math string in the arena, or the placeholder of an unknown
/// (`?`) step when `count` is negative.
struct StackEntry: BitwiseCopyable {
    var start: Int32
    var count: Int32

    static let unknown = StackEntry(start: 0, count: -1)

    var isUnknown: Bool { count < 0 }
}
