import MetamathKit
import PluginKit

#if canImport(Glibc)
import Glibc
#endif

/// The worker side: maps the database image once and verifies the theorems it is sent.
///
/// The mapped image and its verifier (with its scratch buffers) are what an Old worker's
/// competence describes: a persistent worker keeps them between requests.
struct ProofCheckWorker: TaskWorker {
    typealias Request = ProofRequest
    typealias Response = ProofResponse
    /// Progress: how many theorems were checked since the previous message.
    typealias Feedback = ProgressNote

    /// At most one progress message per this many nanoseconds of work.
    static let feedbackInterval: UInt64 = 20_000_000

    private var verifier: Verifier?
    private var digest: UInt64?

    init(name: String) {}

    mutating func perform(_ request: ProofRequest, context: borrowing PerformContext<ProgressNote>) throws -> ProofResponse {
        let verifier = try verifier(for: request.image, context: context)
        switch request.work {
        case .verify(let theorems):
            var problems: [ProofProblem] = []
            var verified: Int32 = 0
            var unreported: UInt32 = 0
            var lastFeedback = Self.now()
            for theorem in theorems {
                let result = verifier.verify(theorem: theorem)
                if result == .verified { verified += 1 } else { problems.append(ProofProblem(theorem: theorem, result: result)) }
                unreported += 1
                if unreported & 15 == 0 {
                    let now = Self.now()
                    if now &- lastFeedback >= Self.feedbackInterval {
                        context.feedback(ProgressNote(batch: theorems[0], count: unreported))
                        unreported = 0
                        lastFeedback = now
                    }
                    if context.shouldStop { break }
                }
            }
            return .verified(count: verified, problems: problems)
        case .state(let theorem, let step):
            return .state(verifier.stack(theorem: theorem, afterStep: Int(step)))
        }
    }

    /// The verifier for the image the request names, mapping it if this worker does not hold it.
    private mutating func verifier(for image: ImageReference?, context: borrowing PerformContext<ProgressNote>) throws -> Verifier {
        if let image, image.digest != digest {
            // Through the host's blob when there is one: the master's file here, a verified copy
            // (fetched once per machine) elsewhere. Both are checked content: no re-hash.
            var path = image.path
            var descriptor: Int32 = -1
            if !image.blob.isEmpty {
                descriptor = try context.openBlob(image.blob)
                path = "/proc/self/fd/\(descriptor)"
            }
            defer { if descriptor >= 0 { close(descriptor) } }
            let mapped = try MappedImage(path: path, expectedDigest: image.digest,
                                         verifyingContent: !image.isMastersOwnFile && image.blob.isEmpty)
            verifier = Verifier(image: mapped)
            digest = image.digest
        }
        guard let verifier else { throw WorkerError("the request names no database image and this worker holds none") }
        return verifier
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

/// A request the worker cannot serve at all (the master sees a marshal error).
struct WorkerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
