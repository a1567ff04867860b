/// Lets go of large values on a thread of their own, so that the caller does not wait while
/// their memory is unmapped.
enum Disposal {
    /// Holds the value until the disposal thread drops it.
    private final class Box: @unchecked Sendable {
        // @unchecked: the caller hands the value over and never touches it again.
        var value: Any?
        init(_ value: Any) { self.value = value }
    }

    /// Drops `value` on a new detached thread (on this one if no thread can be started). The
    /// caller must not keep other references to the memory it wants freed (pass it with
    /// `consume`).
    static func release<Value>(_ value: consuming Value) {
        let box = Box(value)
        HelperThread.detach { box.value = nil }
    }
}
