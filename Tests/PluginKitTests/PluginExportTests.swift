// PluginKit's export: the C descriptor a Swift task kind fills, driven through a fake host.
import PluginABI
import PluginKit
import Testing

@Suite("PluginKit export")
struct PluginKitExportTests {
    private func testDescriptor() throws -> ph_plugin_descriptor {
        var descriptor = ph_plugin_descriptor()
        let status = PluginExport.fill(&descriptor, hostMajor: 2, hostMinor: 0, kind: KitTestKind.self)
        try #require(status == 0)
        return descriptor
    }

    @Test func fillDescribesTheKind() throws {
        let descriptor = try testDescriptor()
        #expect(descriptor.abi_major == 2 && descriptor.abi_minor == 3)
        #expect(PluginExport.abiVersion == (UInt32(PH_ABI_VERSION_MAJOR), UInt32(PH_ABI_VERSION_MINOR)))
        #expect(string(descriptor.name) == "kit-test")
        #expect(string(descriptor.version) == "0.1.0")
        #expect(string(descriptor.description) == "PluginKit's in-process test kind")
        #expect(string(descriptor.usage) == "kit-test [--fail] WORD...")
        #expect(descriptor.default_policy == PH_POLICY_PERSISTENT)
        #expect(descriptor.master_open != nil && descriptor.request_of_task != nil)
        #expect(descriptor.use_response != nil && descriptor.perform != nil && descriptor.worker_init != nil)
        #expect(descriptor.worker_fini != nil)
        // The one plugin-side extension: "ph.journal/1" (see journalAsksTheKind).
        #expect(descriptor.get_extension?(PH_EXT_JOURNAL) != nil)
        #expect(descriptor.get_extension?("ph.none/1") == nil)
        // Filling again gives the same static strings.
        let again = try testDescriptor()
        #expect(again.name == descriptor.name)
    }

    @Test func journalAsksTheKind() throws {
        let descriptor = try testDescriptor()
        let table = try #require(descriptor.get_extension?(PH_EXT_JOURNAL)?.assumingMemoryBound(to: ph_plugin_journal.self).pointee)
        let host = FakeHost()
        for (words, refusal) in [(["alpha", "beta"], nil), (["alpha", "no-journal"], "kit-test was told no-journal")] {
            let master = try #require(host.open(descriptor, ["kit-test"] + words, policy: PH_POLICY_PERSISTENT))
            host.error = nil
            var why = ph_error_sink()
            why.host_data = Unmanaged.passUnretained(host).toOpaque()
            why.set_error = { sink, message in FakeHost.from(sink?.pointee.host_data).error = string(message) }
            #expect(table.replayable?(master, &why) == (refusal == nil ? 1 : 0))
            #expect(host.error == refusal)
            let record = RequestRecord()
            var out = ph_request_sink()
            out.host_data = Unmanaged.passUnretained(record).toOpaque()
            out.set_request = { sink, data, count in RequestRecord.from(sink).request = copy(data, count) }
            table.identity?(master, &out)
            #expect(record.request == Array(words.joined(separator: " ").utf8))
            host.finish(descriptor, master)
        }
    }

    @Test func fillRefusesWhatItCannotServe() throws {
        _ = try testDescriptor()
        var descriptor = ph_plugin_descriptor()
        // A host of another major version (ABI 1.x, or a later one) is refused; the descriptor
        // says which version the plugin speaks, so that such a host can name both.
        for hostMajor: UInt32 in [1, 3] {
            descriptor = ph_plugin_descriptor()
            #expect(PluginExport.fill(&descriptor, hostMajor: hostMajor, hostMinor: 0, kind: KitTestKind.self) == 1)
            #expect(descriptor.abi_major == 2 && descriptor.abi_minor == 3 && descriptor.master_open == nil)
        }
        // Any minor version of this major version serves.
        #expect(PluginExport.fill(&descriptor, hostMajor: 2, hostMinor: 7, kind: KitTestKind.self) == 0)
        #expect(PluginExport.fill(nil, hostMajor: 2, hostMinor: 0, kind: KitTestKind.self) == 2)
        #expect(PluginExport.fill(&descriptor, hostMajor: 2, hostMinor: 0, kind: OtherKind.self) == 3)
        #expect(PluginExport.fill(&descriptor, hostMajor: 2, hostMinor: 0, kind: BadNameKind.self) == 4)
        #expect(PluginExport.Refusal.anotherKindExported.rawValue == 3)
    }

    @Test func masterOpenQueuesTasksOrReportsAUsageError() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(
            host.open(descriptor, ["kit-test", "alpha", "beta", "tiny", "untimed"], policy: PH_POLICY_PERSISTENT))
        #expect(host.pushes.map(\.bytes) == ["alpha", "beta", "tiny", "untimed"].map(bytes))
        #expect(host.pushes.map(\.priority) == [1, 1, 1, 1])
        // Timeouts in whole milliseconds, rounded up; 0 means the run's default.
        #expect(host.pushes.map(\.timeout) == [1500, 1500, 1, 0])
        #expect(host.logs == ["1: opened with 4 words and 2 workers"])
        host.finish(descriptor, master)

        let failing = FakeHost()
        #expect(failing.open(descriptor, ["kit-test", "--fail"], policy: PH_POLICY_ONE_SHOT) == nil)
        #expect(failing.error == "--fail was given")
    }

    @Test func requestPerformAndResponseRoundTripThroughTheCTable() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let worker = try #require(startWorker(descriptor, name: "kit-test:0:1"))

        // Fresh worker.
        let task = bytes("hello")
        let fresh = host.request(descriptor, master, task: task, competence: nil)
        #expect(fresh.result == PH_REQUEST_READY)
        #expect(fresh.request == (bytes("fresh:hello")))
        let performed = perform(descriptor, worker, fresh.request ?? [])
        #expect(performed.status == 0)
        #expect(performed.response == (bytes("FRESH:HELLO")))
        let decision = host.useResponse(descriptor, master, task: task, competence: nil, response: performed.response ?? [])
        #expect(decision.stay == UInt32(1).binaryEncoded())
        #expect(decision.resolved == nil)

        // The same worker, now old with competence 1.
        let old = host.request(descriptor, master, task: task, competence: decision.stay)
        #expect(old.request == (bytes("old1:hello")))
        let second = host.useResponse(descriptor, master, task: task, competence: decision.stay, response: bytes("OLD1:HELLO"))
        #expect(second.stay == UInt32(2).binaryEncoded())

        // Follow-ups, pushes from use_response, failures.
        let follow = host.useResponse(descriptor, master, task: task, competence: nil, response: bytes("FOLLOW"))
        #expect(follow.followUps.map(\.bytes) == [bytes("follow-up")])
        #expect(follow.followUps.map(\.priority) == [-1])
        #expect(host.pushes.map(\.bytes) == [bytes("pushed-by-use-response")])
        let failed = host.useResponse(descriptor, master, task: task, competence: nil, response: bytes("FAIL"))
        #expect(failed.stay == nil)
        #expect(failed.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(failed.resolved?.message == "the worker said FAIL")

        // Feedback goes both ways.
        let withFeedback = perform(descriptor, worker, bytes("fresh:feedback"))
        #expect(withFeedback.feedback == [bytes("one"), bytes("two")])
        for message in withFeedback.feedback {
            message.withUnsafeBufferPointer { buffer in
                descriptor.forward_feedback?(master, "kit-test:0:1", ph_bytes(data: buffer.baseAddress, len: buffer.count))
            }
        }

        #expect(host.broadcasts == [bytes("seen one"), bytes("seen two")])
        for message in host.broadcasts + [[0xFF]] {
            message.withUnsafeBufferPointer { buffer in
                descriptor.on_broadcast?(worker, ph_bytes(data: buffer.baseAddress, len: buffer.count))
            }
        }
        // The undecodable broadcast was dropped; the last good one arrived.
        #expect(perform(descriptor, worker, bytes("fresh:show-broadcast")).response == bytes("seen two"))

        // Names, pull and matching.
        #expect(host.name(descriptor.name_of_task, master, task) == "task hello")
        #expect(descriptor.pull?(master, 4) == 0)
        #expect(host.pushes.last?.bytes == (bytes("pulled")))
        #expect(host.match(descriptor, master, task: task, competence: nil) == 1)
        #expect(host.match(descriptor, master, task: bytes("never-matches"), competence: nil) == 0)

        let report = host.finish(descriptor, master)
        #expect(report.text == #"kit-test: 0 done; feedback ["kit-test:0:1: one", "kit-test:0:1: two"]"#)
        #expect(report.status == 3)
    }

    @Test func obsoleteAndUnmarshallableTasks() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let obsolete = host.request(descriptor, master, task: bytes("obsolete"), competence: nil)
        #expect(obsolete.result == PH_REQUEST_OBSOLETE)
        #expect(obsolete.request == nil)
        let unmarshallable = host.request(descriptor, master, task: bytes("unmarshallable"), competence: nil)
        #expect(unmarshallable.result == PH_REQUEST_READY)
        #expect(unmarshallable.marshalError?.contains("cannot marshal this task") == true)
        let corruptTask = host.request(descriptor, master, task: [9, 0x41], competence: nil)
        #expect(corruptTask.marshalError?.contains("did not decode") == true)
        let corruptCompetence = host.request(descriptor, master, task: bytes("x"), competence: [1])
        #expect(corruptCompetence.marshalError?.contains("did not decode") == true)
        host.finish(descriptor, master)
    }

    @Test func undecodableResponseFailsTheTaskAndEndsTheWorker() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let decision = host.useResponse(descriptor, master, task: bytes("hello"), competence: nil, response: [200, 1])
        #expect(decision.stay == nil)
        #expect(decision.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(decision.resolved?.message.contains("the response did not decode") == true)
        // The marshal-error hook may rescue the task.
        let rescued = host.useResponse(descriptor, master, task: bytes("rescue"), competence: nil, response: [200])
        #expect(rescued.stay == nil)
        #expect(rescued.resolved?.outcome == PH_OUTCOME_DONE)
        host.finish(descriptor, master)
    }

    @Test func lossAndMarshalErrorCallbacksMayResolve() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        let cancelled = host.lost(descriptor, master, task: bytes("t"), reason: PH_LOSS_CANCELLED)
        #expect(cancelled.resolved?.outcome == PH_OUTCOME_FAILED)
        #expect(cancelled.resolved?.message == "cancelled: t gone")
        let idleDeath = host.lost(descriptor, master, task: nil, reason: PH_LOSS_WORKER_DIED)
        #expect(idleDeath.resolved == nil)
        let rescued = host.marshalError(descriptor, master, task: bytes("rescue"))
        #expect(rescued.resolved?.outcome == PH_OUTCOME_DONE)
        let notRescued = host.marshalError(descriptor, master, task: bytes("other"))
        #expect(notRescued.resolved == nil)
        host.finish(descriptor, master)
    }

    @Test func corruptOrRefusedRequestsMakePerformFail() throws {
        let descriptor = try testDescriptor()
        let worker = try #require(startWorker(descriptor, name: "kit-test:1:2"))
        let corrupt = perform(descriptor, worker, [0xFF, 0xFF, 0xFF])
        #expect(corrupt.status != 0)
        #expect(corrupt.response == nil)
        #expect(corrupt.failure?.contains("the request did not decode") == true)
        let refused = perform(descriptor, worker, bytes("please throw"))
        #expect(refused.status != 0)
        #expect(refused.failure?.contains("refused to perform") == true)
        let empty = perform(descriptor, worker, [])
        #expect(empty.status != 0)
        // The worker is still usable afterwards.
        #expect(perform(descriptor, worker, bytes("ok")).response == (bytes("OK")))

        // A worker whose initializer threw fails every request with the reason.
        let broken = try #require(startWorker(descriptor, name: "kit-test:2:broken"))
        let failed = perform(descriptor, broken, bytes("ok"))
        #expect(failed.status != 0)
        #expect(failed.failure == "kit-test: worker kit-test:2:broken did not start: refused to perform")
    }

    @Test func aThrownTaskFailureFailsTheTaskThroughTheExtensionAndKeepsTheWorker() throws {
        let descriptor = try testDescriptor()
        let worker = try #require(startWorker(descriptor, name: "kit-test:4:5"))
        let failed = perform(descriptor, worker, bytes("please taskfail"), offeringTaskFailure: true)
        #expect(failed.status == 0)
        #expect(failed.taskFailure == "no answer to 'please taskfail'")
        #expect(failed.failure == nil, "a task failure is not a marshal error")
        #expect(failed.response == nil)
        #expect(perform(descriptor, worker, bytes("ok"), offeringTaskFailure: true).response == bytes("OK"))
        // A host without the extension (older than ABI 2.1) sees a marshal error with the message.
        let older = perform(descriptor, worker, bytes("please taskfail"))
        #expect(older.status != 0)
        #expect(older.failure == "no answer to 'please taskfail'")
    }

    @Test func workerFiniRunsTheFinishHookOnce() throws {
        let descriptor = try testDescriptor()
        let name = "kit-test:3:finish"
        let worker = try #require(startWorker(descriptor, name: name))
        #expect(perform(descriptor, worker, bytes("ok")).response == bytes("OK"))
        #expect(!KitTestWorker.finished.withLock { $0.contains(name) }, "not before worker_fini")
        let fini = try #require(descriptor.worker_fini)
        fini(worker)
        #expect(KitTestWorker.finished.withLock { $0.filter { $0 == name } } == [name])
        // A worker whose initializer threw has nothing to finish, but worker_fini is still safe.
        fini(startWorker(descriptor, name: "kit-test:4:broken"))
    }

    @Test func pushOutsideAllowedCallbacksIsDroppedAndLogged() throws {
        let descriptor = try testDescriptor()
        let host = FakeHost()
        let master = try #require(host.open(descriptor, ["kit-test"], policy: PH_POLICY_PERSISTENT))
        host.logs.removeAll()
        #expect(host.name(descriptor.name_of_task, master, bytes("push-from-name")) == "task push-from-name")
        #expect(host.pushes.isEmpty)
        #expect(host.logs.count == 1)
        #expect(host.logs.first?.hasPrefix("3: kit-test: push(_:) called outside") == true)
        host.finish(descriptor, master)
    }
}
