import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM handling: a cancelled request sees `should_stop`; an idle worker exits at once.
enum StopSignal {
    /// Set by SIGTERM while a request runs.
    static let requested = Atomic<Bool>(false)
    /// True while `perform` runs.
    static let performing = Atomic<Bool>(false)

    /// Installs the SIGTERM handler.
    static func install() {
        signal(SIGTERM) { _ in
            if StopSignal.performing.load(ordering: .relaxed) {
                StopSignal.requested.store(true, ordering: .relaxed)
            } else {
                _exit(143)
            }
        }
    }
}
