import CSupport
import PluginABI
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// Events: observers get what they asked for; events no one wants are never built.
extension Scheduler {
    /// Sends an event to the observers that want it. Build arguments lazily: call sites guard
    /// costly ones with `wants(_:)`.
    func emitLocked(_ kind: @autoclosure () -> HostEvent.Kind, taskName: String? = nil) {
        guard !observed.isEmpty else { return }
        let kind = kind()
        let category = kind.category
        guard !observed.isDisjoint(with: category) else { return }
        var event = HostEvent(time: Double(monotonicNanoseconds() - startTime) / 1e9, kind: kind)
        event.taskName = taskName
        for observer in observers where !observer.categories.isDisjoint(with: category) { observer.handler(event) }
    }

    /// ``emitLocked(_:)`` for an event whose category is known before it is built: an event no
    /// observer wants is not even built (the per-task events).
    @inline(__always)
    func emitLocked(_ category: HostEventCategories, _ kind: @autoclosure () -> HostEvent.Kind) {
        guard !observed.isDisjoint(with: category) else { return }
        emitLocked(kind())
    }

    /// Whether some observer wants events of `category`.
    func wants(_ category: HostEventCategories) -> Bool { !observed.isDisjoint(with: category) }
}
