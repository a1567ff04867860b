#if canImport(Glibc)
import Glibc
#endif

/// A second thread for a piece of work that the starting thread waits for with ``join()``.
///
/// The work may use state that the starting thread leaves alone until then (the caller's
/// contract, hence an `@unchecked Sendable` box rather than a `Sendable` closure).
final class HelperThread {
    final class Work: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var thread: pthread_t?
    /// The work, when no thread could be created: it runs at ``join()``.
    private var pending: Work?

    /// Starts `work` on a new thread.
    init(_ work: @escaping () -> Void) {
        let box = Work(work)
        let context = Unmanaged.passRetained(box)
        thread = Self.start(context)
        if thread == nil {
            context.release()
            pending = box
        }
    }

    /// Starts `work` on a new thread that nothing waits for (runs it on this one if no thread
    /// can be created). The work, and what it captures, is released on that thread.
    static func detach(_ work: @escaping () -> Void) {
        let context = Unmanaged.passRetained(Work(work))
        if let handle = start(context) {
            pthread_detach(handle)
        } else {
            context.takeRetainedValue().run()
        }
    }

    /// The one `pthread_create` of this module: a joinable thread that runs the work and takes
    /// over the reference `context` holds, or nil (the reference still the caller's) when no
    /// thread could be created.
    private static func start(_ context: Unmanaged<Work>) -> pthread_t? {
        var handle = pthread_t()
        guard pthread_create(&handle, nil, helperThreadMain, context.toOpaque()) == 0 else { return nil }
        return handle
    }

    /// Whether the work runs on its own thread (false when no thread could be created: it then
    /// runs at ``join()``).
    var isRunning: Bool { thread != nil }

    /// Waits until the work has ended.
    func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        } else if let work = pending {
            pending = nil
            work.run()
        }
    }

    deinit { join() }
}

/// A value one thread sets and another reads after a ``HelperThread/join()``.
final class HandOver<Value>: @unchecked Sendable {
    var value: Value?
}

private func helperThreadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<HelperThread.Work>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}
