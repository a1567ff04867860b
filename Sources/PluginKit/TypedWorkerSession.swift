/// The worker of `Kind`: decodes requests, calls ``TaskWorker/perform(_:context:)``, encodes
/// the response into a reused buffer.
///
/// Inlinable and reached through ``WorkerCallbacks`` for the reason given on
/// ``TypedMasterSession``: the request path runs code specialised for the task kind.
@usableFromInline
final class TypedWorkerSession<Kind: TaskKind> {
    @usableFromInline
    var worker: Kind.Worker
    @usableFromInline
    let writers = WriterPool()

    @inlinable
    init(worker: Kind.Worker) {
        self.worker = worker
    }

    /// Starts the worker; a worker whose initializer throws fails every request.
    @inlinable
    static func start(name: String) -> WorkerCallbacks {
        do {
            let session = TypedWorkerSession(worker: try Kind.Worker(name: name))
            return WorkerCallbacks(
                perform: { session.perform($0, channel: $1) },
                receiveBroadcast: { session.receiveBroadcast($0) },
                finish: { session.worker.finish() })
        } catch {
            return WorkerCallbacks.failing("\(Kind.name): worker \(name) did not start: \(error)")
        }
    }

    @inlinable
    func perform(_ requestBytes: BorrowedBytes, channel: PerformChannel) -> Bool {
        let request: Kind.Request
        do {
            request = try requestBytes.decode(Kind.Request.self)
        } catch {
            channel.fail("\(Kind.name): the request did not decode: \(error)")
            return false
        }
        let context = PerformContext<Kind.Feedback>(channel: channel)
        let response: Kind.Response
        do {
            response = try worker.perform(request, context: context)
        } catch let failure as TaskFailure {
            return channel.failTask(failure.message)
        } catch {
            channel.fail("\(Kind.name): the worker could not perform the request: \(error)")
            return false
        }
        writers.withWriter { writer in
            response.encode(to: &writer)
            channel.respond(writer)
        }
        return true
    }

    @inlinable
    func receiveBroadcast(_ feedbackBytes: BorrowedBytes) {
        guard let feedback = try? feedbackBytes.decode(Kind.Feedback.self) else { return }
        worker.receiveBroadcast(feedback)
    }
}
