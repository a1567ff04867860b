import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

// GNU make's jobserver: a token from make for every live worker beyond the first.
//
// The first worker runs on the token make gave the recipe that started the host. A slot that
// would start another worker waits until the run holds a token for it; a token thread takes
// tokens from make (outside the lock) while slots wait for one. A token is written back as
// soon as it covers no live worker and no slot waits for it: when a worker has been reaped, and
// all of them when the run ends. Tokens are read under the lock (the read never blocks), so a
// token taken is always recorded, and none is taken after the run ended. The crash guard knows
// how many are held, and writes them back if a plugin's crash in the master ends the host.
extension Scheduler {
    /// Worker processes that may be alive: in a slot (starting, serving, being reaped) or left
    /// to a reaper thread.
    var workersAliveLocked: Int {
        slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } + reapsPending
    }

    /// Held tokens that cover no live worker (the first worker needs none).
    var spareTokensLocked: Int { jobserverTokens.count - max(0, workersAliveLocked - 1) }

    /// True when another worker may start now: no jobserver, no live worker, or a spare token.
    var jobserverAllowsWorkerLocked: Bool {
        jobserver == nil || workersAliveLocked == 0 || spareTokensLocked > 0
    }

    /// Gives make back every token that covers no live worker and that no waiting slot needs.
    func returnSpareTokensLocked() {
        guard let jobserver else { return }
        var extra = spareTokensLocked - (report == nil ? jobserverWaiters : 0)
        while extra > 0, let token = jobserverTokens.popLast() {
            jobserver.giveBack(token)
            extra -= 1
        }
        jobserver.holding(jobserverTokens.count)
    }

    /// Starts the token thread (once, at the start of a run with a jobserver).
    func startJobserverThreadLocked() {
        guard let jobserver else { return }
        startThread { [self] in
            while true {
                let running: Bool = lock.withLock {
                    while report == nil && jobserverWaiters <= spareTokensLocked { lock.wait() }
                    return report == nil
                }
                guard running else { return }
                jobserver.waitUntilReadable()
                lock.withLock {
                    guard report == nil, let token = jobserver.take() else { return }
                    jobserverTokens.append(token)
                    jobserver.holding(jobserverTokens.count)
                    returnSpareTokensLocked()
                    lock.broadcast()
                }
            }
        }
    }

    /// At the end of the run: every token goes back to make, and the token thread ends.
    func releaseJobserverLocked() {
        guard let jobserver else { return }
        while let token = jobserverTokens.popLast() { jobserver.giveBack(token) }
        jobserver.holding(0)
        jobserver.wake()
        lock.broadcast()
    }
}
