// Reacting to an event on a thread of its own while the run goes on.
import Foundation
import Synchronization

/// Runs `body` at once on a new thread (not the Swift concurrency pool, which CPU-bound tests
/// elsewhere in the process may keep busy for seconds), so that a test can react to an event
/// while the thing it reacts to is still going on. `value` waits for the body's result.
public final class Reaction<T: Sendable>: Sendable {
    private struct State {
        var result: T?
        var waiter: CheckedContinuation<T, Never>?
    }

    private let state = Mutex(State())

    public init(_ body: @escaping @Sendable () -> T) {
        let thread = Thread { [self] in finish(body()) }
        thread.start()
    }

    private func finish(_ result: T) {
        let waiter = state.withLock { state -> CheckedContinuation<T, Never>? in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    public var value: T {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> T? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
