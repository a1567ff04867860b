import PluginProtocol

// Journal set-up: the run's identity, refusing kinds that cannot be replayed, and opening the
// journal (new, or resumed after checking it is this run's).
extension Scheduler {
    /// Opens the journal before the run starts. Throws one line naming the file and what is
    /// wrong; a refused journal is left untouched.
    func openJournal(_ options: JournalOptions) throws(HostError) {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { throw .usage("the journal is opened before the run starts") }
        var identity = options.identity
        for (index, kind) in kinds.enumerated() {
            let support = kind.plugin.journalSupport()
            if let refusal = support.refusal {
                throw .usage("--journal: \(kind.name) cannot be replayed: \(refusal)")
            }
            identity.append(("kind \(index + 1) plugin", "\(kind.plugin.library.name) build \(PluginDigest.hex(kind.plugin.library.digest))"))
            identity.append(("kind \(index + 1) arguments",
                             JournalOptions.digest(Array(kind.plugin.arguments.joined(separator: "\u{0}").utf8))))
            identity.append(("kind \(index + 1) input", support.identity.isEmpty ? "none" : JournalOptions.digest(support.identity)))
        }
        let header = JournalHeader(identity: identity)
        var contents: JournalContents?
        do {
            if options.resumes {
                contents = try JournalReader.read(path: options.path)
                try Self.check(contents!.header, against: header, path: options.path)
            }
        } catch {
            throw .usage(error.description)
        }
        // A format 1 journal holds no checkpoint and cannot hold one (its reader takes none):
        // every kind stays journaled by its responses, as when it was written. A kind is not
        // asked, so it does not start checkpointing.
        let takesCheckpoints = (contents?.header.version ?? JournalHeader.formatVersion) >= 2
        for kind in kinds { kind.checkpointed = takesCheckpoints && kind.plugin.isCheckpointed() }
        if let contents { try resumeCheckpointedLocked(contents) }
        do {
            if let contents {
                let writer = try JournalWriter.resume(path: options.path, contents: contents)
                journal = RunJournal(writer: writer, ledger: ResumeLedger(contents.entries, rerunsFailed: options.rerunsFailed))
            } else {
                journal = RunJournal(writer: try JournalWriter.create(path: options.path, header: header), ledger: nil)
            }
        } catch {
            throw .usage(error.description)
        }
        for kind in kinds where kind.checkpointed {
            kind.plugin.state.checkpoints = CheckpointSink(writer: journal!.writer, kind: kind.journalIndex)
        }
        for kind in kinds { keyInitialTasksLocked(kind) }
    }

    /// Hands each checkpointed kind its last checkpoint that its output bears out, newest first,
    /// among those this boot may trust (after a reboot, only those whose output was synced: see
    /// ``JournalContents/trustedCheckpoints(kind:boot:)``); none: an empty one. Throws the newest
    /// refusal if the kind takes none.
    func resumeCheckpointedLocked(_ contents: JournalContents) throws(HostError) {
        for kind in kinds where kind.checkpointed {
            let checkpoints = contents.trustedCheckpoints(kind: kind.journalIndex, boot: BootID.current)
            var refusal: HostError?
            for checkpoint in (checkpoints.isEmpty ? [[]] : checkpoints).reversed() {
                do {
                    try kind.plugin.resume(from: checkpoint)
                    refusal = nil
                    break
                } catch {
                    refusal = refusal ?? error
                }
            }
            if let refusal { throw refusal }
        }
    }

    /// Keys the tasks `master_open` queued before the journal was opened, in the order it
    /// pushed them, and diverts those the journal ended to replay.
    private func keyInitialTasksLocked(_ kind: KindState) {
        var initial: [TaskRecord] = []
        _ = kind.queue.contains { initial.append($0); return false }
        var diverted = Set<ObjectIdentifier>()
        for task in initial.sorted(by: { $0.id < $1.id }) where keyAndDivertLocked(task, context: nil) {
            diverted.insert(ObjectIdentifier(task))
        }
        if !diverted.isEmpty { _ = kind.queue.removeAll { diverted.contains(ObjectIdentifier($0)) } }
    }

    /// Refuses a journal whose run is not this one, naming the first field that differs.
    private static func check(_ journaled: JournalHeader, against run: JournalHeader, path: String) throws(JournalError) {
        let names = journaled.identity.map(\.name) + run.identity.map(\.name).filter { name in
            !journaled.identity.contains { $0.name == name }
        }
        for name in names {
            let old = journaled.identity.first { $0.name == name }?.value ?? "absent"
            let new = run.identity.first { $0.name == name }?.value ?? "absent"
            if old != new { throw .foreign(path, field: name, journal: old, run: new) }
        }
    }
}
