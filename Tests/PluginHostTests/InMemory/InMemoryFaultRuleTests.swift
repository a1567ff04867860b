// Rules 4, 6, 7 and 10 (deaths, time limits, marshal errors, workers that cannot start) and
// Coq's S9, S10 and S18, over in-memory workers.
@testable import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Fault rules over in-memory workers")
struct InMemoryFaultRuleTests {
    @Test("rule 4, S9: a death is retried once on a fresh worker, then fails with the signal and the last stderr lines")
    func deathRetriedThenFailed() async throws {
        let test = try InMemoryRun(chaos: ["noisy-death", "echo:b"], .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        let dead = try report.result(1)
        #expect(dead.outcome == .failed)
        #expect(dead.attempts == 2)
        let message = try #require(dead.message)
        #expect(message.hasPrefix("worker died 2 time(s): "))
        #expect(message.contains("was killed by signal 6 (SIGABRT)"))
        #expect(message.contains("last stderr: chaos: last words 1 | chaos: last words 2 | chaos: last words 3"))
        #expect(test.log.retries.map(\.task) == [1])
        #expect(test.workers.prefix(2).allSatisfy { $0.requests == ["F|noisy-death"] && $0.ended == .signalled(SIGABRT) })
        #expect(try report.result(2).outcome == .done)
        #expect(test.workers.count == 3)
    }

    @Test("rule 4: a task that kills only its first worker is done on the retry")
    func retrySucceeds() async throws {
        let test = try InMemoryRun(chaos: ["crash-once:mark"], .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(1).response?.result == "survived")
        #expect(try report.result(1).attempts == 2)
    }

    @Test("rule 4: with no retries left, on_task_lost may resolve the task in the master")
    func lossResolvedInMaster() async throws {
        let test = try InMemoryRun(chaos: ["death-local"], .test(jobs: 1, retries: 0))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .done)
        #expect(try report.result(1).message == "ran in master after loss")
        #expect(report.exitStatus == 0)
    }

    @Test("rule 6: a task past its time limit has its worker killed and ends expired after the retries")
    func expiry() async throws {
        let test = try InMemoryRun(chaos: ["@20 hang", "echo:b"], .test(jobs: 1, retries: 1))
        let report = try await test.startAndFinish()
        let expired = try report.result(1)
        #expect(expired.outcome == .expired)
        #expect(expired.attempts == 2)
        #expect(expired.message?.hasPrefix("expired after 2 attempt(s): killed: its task ran past the time limit") == true)
        #expect(test.workers.prefix(2).allSatisfy { $0.wasKilled && $0.requests == ["F|hang"] })
        #expect(try report.result(2).outcome == .done)
    }

    @Test("rule 7, S10: a request that cannot be encoded calls on_marshal_error; its worker is replaced unused")
    func requestMarshalError() async throws {
        let test = try InMemoryRun(chaos: ["marshal", "marshal-local", "echo:c"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).outcome == .failed)
        #expect(try report.result(1).message == "marshal error: chaos: cannot encode request")
        #expect(try report.result(2).outcome == .done)
        #expect(try report.result(2).message?.hasPrefix("ran in master: ") == true)
        // Each marshal error retired the worker it was meant for, before any request reached it.
        #expect(test.workers.count == 3)
        #expect(test.workers.prefix(2).allSatisfy { $0.requests.isEmpty && $0.wasKilled })
        #expect(test.workers.last?.requests == ["F|echo:c"])
    }

    @Test("rule 7: an error frame and bytes that are no frame are marshal errors; the worker is replaced")
    func responseMarshalErrors() async throws {
        let test = try InMemoryRun(chaos: ["badresp", "garbage", "echo:c"], policy: .persistent, .test(jobs: 1))
        let report = try await test.startAndFinish()
        #expect(try report.result(1).message == "marshal error: chaos: cannot decode request")
        #expect(try report.result(2).message == "marshal error: malformed frame: bad header (not a PluginHost frame stream)")
        #expect(try report.result(3).outcome == .done)
        #expect(test.workers.map(\.requests) == [["F|badresp"], ["F|garbage"], ["F|echo:c"]])
        #expect(try [1, 2].allSatisfy { try report.result(UInt64($0)).attempts == 1 }, "a marshal error is not retried")
    }

    @Test("rule 10: a kind whose first worker cannot start: every task fails at once and the run exits 2")
    func spawnFailure() async throws {
        let transport = InMemoryTransport(start: { _, _ in .fail("plugin-worker: No such file or directory") })
        let test = try InMemoryRun(chaos: ["echo:a", "echo:b"], .test(jobs: 1), transport: transport)
        let report = try await test.startAndFinish()
        #expect(transport.spawnCount == 1, "never started: a set-up error, not retried")
        #expect(report.results.allSatisfy {
            $0.outcome == .failed && $0.message == "worker could not be started: plugin-worker: No such file or directory"
        })
        #expect(report.setupErrors == ["chaos: worker could not be started: plugin-worker: No such file or directory"])
        #expect(report.exitStatus == 2)
    }

    @Test("rule 10: after a worker of the kind started, a failed start is retried after a back-off, and the run goes on")
    func transientSpawnFailure() async throws {
        let transport = InMemoryTransport(start: { index, _ in index == 1 ? .fail("fork: Resource temporarily unavailable") : .hello })
        let test = try InMemoryRun(chaos: ["echo:a", "echo:b"], policy: .oneShot, .test(jobs: 1), transport: transport)
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 2)
        #expect(transport.spawnCount == 3)
        #expect(report.exitStatus == 0)
    }

    @Test("rule 10, S18: a worker of another plugin build is refused at its handshake, with both digests")
    func handshakeMismatch() async throws {
        let library = Chaos.library
        let other = Hello(abiMajor: library.descriptor.abi_major, abiMinor: library.descriptor.abi_minor, pid: 1,
                          pluginDigest: library.digest ^ 1, pluginName: library.name, pluginVersion: library.version)
        let transport = InMemoryTransport(start: { _, _ in .customHello(other) })
        let test = try InMemoryRun(chaos: ["echo:a"], .test(jobs: 1), transport: transport)
        let report = try await test.startAndFinish()
        let message = try #require(try report.result(1).message)
        #expect(message.contains("the worker's copy of plugin 'chaos' differs from the master's"))
        #expect(test.workers.allSatisfy { $0.requests.isEmpty && $0.wasKilled })
        #expect(report.exitStatus == 2)
    }

    @Test("rule 10: a worker that dies before its hello: the failure quotes its last stderr line")
    func deathBeforeHello() async throws {
        let transport = InMemoryTransport(start: { _, _ in .dieBeforeHello(.exited(2), stderr: ["plugin-worker: cannot load libchaos.so"]) })
        let test = try InMemoryRun(chaos: ["death-local"], .test(jobs: 1), transport: transport)
        let report = try await test.startAndFinish()
        // death-local resolves a spawn failure in the master too: the run succeeds.
        #expect(try report.result(1).outcome == .done)
        #expect(report.exitStatus == 0)
        let spawnFailure = test.log.kinds.compactMap { kind -> String? in
            if case .spawnFailed(_, let message) = kind { message } else { nil }
        }.first
        #expect(spawnFailure == "chaos:0:0 exited before its handshake (stderr: plugin-worker: cannot load libchaos.so)")
    }
}
