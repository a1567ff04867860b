/// The master side of one run of `Kind`: decodes what the host hands over, calls the task
/// kind, encodes its decisions into the host's sinks.
///
/// Bytes that do not decode are never fatal: a task or competence that does not decode (the
/// master encoded them itself, so this means corruption) fails the task; a response that does
/// not decode goes to ``TaskKind/marshalError(_:task:)`` and ends the worker.
///
/// The class and its methods are inlinable so that they are specialised for the concrete task
/// kind in the plugin's own module: the C thunks reach them through ``MasterCallbacks``,
/// closures built where `Kind` is known, rather than through a protocol witness or a vtable,
/// which would run the unspecialised generic code.
@usableFromInline
final class TypedMasterSession<Kind: TaskKind> {
    @usableFromInline
    var kind: Kind
    @usableFromInline
    let host: MasterHostChannel
    @usableFromInline
    let writers = WriterPool()

    @inlinable
    init(kind: Kind, host: MasterHostChannel) {
        self.kind = kind
        self.host = host
    }

    /// Creates the task kind from the host's open parameters.
    @inlinable
    static func open(_ parameters: OpenParameters, host: MasterHostChannel) -> Result<MasterCallbacks, UsageError> {
        let context = OpenContext<Kind>(
            commandName: parameters.commandName, policy: parameters.policy,
            maxWorkers: parameters.maxWorkers, host: MasterHost(channel: host))
        do {
            let kind = try host.allowingPush { try Kind(arguments: parameters.arguments, context: context) }
            return .success(TypedMasterSession(kind: kind, host: host).callbacks)
        } catch let error as UsageError {
            host.invalidate()
            return .failure(error)
        } catch {
            host.invalidate()
            return .failure(UsageError(String(describing: error)))
        }
    }

    /// The session's methods as closures for the C thunks.
    @inlinable
    var callbacks: MasterCallbacks {
        MasterCallbacks(
            pull: { self.pull(max: $0) },
            taskMatch: { self.taskMatch(task: $0, worker: $1) },
            requestOfTask: { self.requestOfTask(task: $0, worker: $1, out: $2) },
            useResponse: { self.useResponse(response: $0, task: $1, worker: $2, out: $3) },
            marshalError: { self.marshalError(message: $0, task: $1, out: $2) },
            taskLost: { self.taskLost(task: $0, reason: $1, message: $2, willRetry: $3, out: $4) },
            feedback: { self.feedback($0, from: $1) },
            finish: { self.finish(summary: $0, out: $1) },
            nameOfTask: { self.nameOfTask($0, out: $1) },
            nameOfRequest: { self.nameOfRequest($0, out: $1) },
            journalRefusal: { self.kind.journalRefusal() },
            journalIdentity: { self.kind.journalIdentity() })
    }

    @inlinable
    func pull(max: Int) -> PullResult {
        host.allowingPush { kind.pull(upTo: max) }
    }

    @inlinable
    func taskMatch(task taskBytes: BorrowedBytes, worker workerBytes: RawWorkerStatus) -> Bool {
        // A task or competence that does not decode matches, so that `requestOfTask` reports
        // the problem for it instead of leaving it in the queue forever.
        guard let task = try? taskBytes.decode(Kind.Task.self),
              let worker = try? decodeStatus(workerBytes)
        else { return true }
        return kind.taskMatch(task, worker: worker)
    }

    @inlinable
    func requestOfTask(task taskBytes: BorrowedBytes, worker workerBytes: RawWorkerStatus, out: RequestSink) -> RequestVerdict {
        let task: Kind.Task
        let worker: WorkerStatus<Kind.Competence>
        do {
            task = try taskBytes.decode(Kind.Task.self)
            worker = try decodeStatus(workerBytes)
        } catch {
            out.setMarshalError("\(Kind.name): the task or the worker's competence did not decode: \(error)")
            return .ready
        }
        let request: Kind.Request?
        do {
            request = try kind.request(for: task, worker: worker)
        } catch {
            out.setMarshalError("\(Kind.name): no request for the task: \(error)")
            return .ready
        }
        guard let request else { return .obsolete }
        writers.withWriter { writer in
            request.encode(to: &writer)
            out.setRequest(writer)
        }
        return .ready
    }

    @inlinable
    func useResponse(response responseBytes: BorrowedBytes, task taskBytes: BorrowedBytes,
                     worker workerBytes: RawWorkerStatus, out: ResponseSink) {
        let task: Kind.Task
        let worker: WorkerStatus<Kind.Competence>
        do {
            task = try taskBytes.decode(Kind.Task.self)
            worker = try decodeStatus(workerBytes)
        } catch {
            out.resolve(.failed("\(Kind.name): the task or the worker's competence did not decode: \(error)"))
            return
        }
        let response: Kind.Response
        do {
            response = try responseBytes.decode(Kind.Response.self)
        } catch {
            // The ABI has no marshal-error sink here: settle the task and do not call `stay`,
            // so the worker that sent garbage ends.
            let message = "\(Kind.name): the response did not decode: \(error)"
            let outcome = host.allowingPush { kind.marshalError(message, task: task) }
            out.resolve(outcome ?? .failed(message))
            return
        }
        let decision = host.allowingPush { kind.useResponse(response, for: task, worker: worker) }
        for followUp in decision.followUps {
            writers.withWriter { writer in
                followUp.task.encode(to: &writer)
                out.pushTask(writer, priority: followUp.priority)
            }
        }
        if case .stay(let competence) = decision.worker {
            writers.withWriter { writer in
                competence.encode(to: &writer)
                out.stay(writer)
            }
        }
        if case .failed = decision.outcome {
            out.resolve(decision.outcome)
        }
    }

    @inlinable
    func marshalError(message: String, task taskBytes: BorrowedBytes, out: ResponseSink) {
        let task = decodeOptionalTask(taskBytes)
        if let outcome = host.allowingPush({ kind.marshalError(message, task: task) }) {
            out.resolve(outcome)
        }
    }

    @inlinable
    func taskLost(task taskBytes: BorrowedBytes, reason: LossReason, message: String, willRetry: Bool, out: ResponseSink) {
        let task = decodeOptionalTask(taskBytes)
        if let outcome = host.allowingPush({ kind.taskLost(task, reason: reason, message: message, willRetry: willRetry) }) {
            out.resolve(outcome)
        }
    }

    @inlinable
    func feedback(_ feedbackBytes: BorrowedBytes, from worker: String) {
        do {
            let feedback = try feedbackBytes.decode(Kind.Feedback.self)
            kind.feedback(feedback, from: worker)
        } catch {
            host.log("\(Kind.name): feedback from \(worker) did not decode: \(error)", level: .warning)
        }
    }

    @inlinable
    func finish(summary: RunSummary, out: ReportSink) {
        let report = kind.finish(summary: summary)
        if !report.text.isEmpty {
            out.write(report.text)
        }
        if let status = report.exitStatus {
            out.setExitStatus(status)
        }
        host.invalidate()
    }

    @inlinable
    func nameOfTask(_ taskBytes: BorrowedBytes, out: NameSink) {
        guard let task = try? taskBytes.decode(Kind.Task.self), let name = kind.name(of: task) else { return }
        out.setName(name)
    }

    @inlinable
    func nameOfRequest(_ requestBytes: BorrowedBytes, out: NameSink) {
        guard let request = try? requestBytes.decode(Kind.Request.self), let name = kind.name(ofRequest: request) else {
            return
        }
        out.setName(name)
    }

    @inlinable
    func decodeStatus(_ raw: RawWorkerStatus) throws(BinaryDecodingError) -> WorkerStatus<Kind.Competence> {
        WorkerStatus(raw.isOld ? .old(try raw.competence.decode(Kind.Competence.self)) : .fresh, name: raw.nameString)
    }

    /// The task of a loss or marshal-error callback: `nil` when absent, or (logged) when it
    /// does not decode.
    @inlinable
    func decodeOptionalTask(_ bytes: BorrowedBytes) -> Kind.Task? {
        guard !bytes.isAbsent else { return nil }
        do {
            return try bytes.decode(Kind.Task.self)
        } catch {
            host.log("\(Kind.name): a lost task did not decode: \(error)", level: .warning)
            return nil
        }
    }
}
