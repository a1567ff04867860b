import MetamathKit
import PluginKit

#if canImport(Glibc)
import Glibc
#endif

/// The master side of ProofCheck.
struct ProofCheckKind: TaskKind {
    typealias Task = ProofTask
    typealias Request = ProofRequest
    typealias Response = ProofResponse
    /// The digest of the database image the worker has mapped.
    typealias Competence = UInt64
    typealias Feedback = ProgressNote
    typealias Worker = ProofCheckWorker

    static let name = "proofcheck"
    static let version = "1.0.0"
    static let summary = "Verifies every proof of a Metamath database in parallel workers"
    static let usage = ProofCheckOptions.usage
    static let defaultPolicy = WorkerPolicy.oneShot

    private let options: ProofCheckOptions
    private let host: MasterHost<ProofCheckKind>
    private let persistent: Bool
    private let database: CompiledDatabase
    /// The theorems this run checks, in database order.
    private let theorems: TheoremList
    private let image: ImageFile
    /// The image file published to the workers through the host (nil on a host without blobs).
    private let imageBlob: BlobID?
    private var planner: BatchPlanner
    private var outcomes: OutcomeTable
    private var failures: [Int: FailureRecord] = [:]
    /// Size of each batch handed out and not settled yet, by its first position.
    private var batchSizes: [Int32: Int32] = [:]
    private var workersSeen: Set<String> = []
    /// Verifies in the master when no worker can (created on first need).
    private var masterVerifier: Verifier?
    private var checkedInMaster = 0
    private var progress: ProgressCounter
    private let started: UInt64
    /// The worker count the batches were planned for.
    private let plannedWorkers: Int

    init(arguments: [String], context: OpenContext<ProofCheckKind>) throws {
        let started = ProofCheckWorker.now()
        let options = try ProofCheckOptions(arguments: arguments)
        let database = try options.imageCache.map { directory throws(DatabaseError) in
            try CompiledDatabase.compile(path: options.path, placement: ImageFile.placement, cache: ImageCache(directory: directory))
        } ?? CompiledDatabase.compile(path: options.path, placement: ImageFile.placement)
        var theorems = database.theorems
        if let label = options.theorem {
            guard let position = theorems.position(labeled: label) else {
                throw UsageError("\(options.path): no theorem ($p) labelled \(Echo.text(label))")
            }
            theorems = theorems.only(position)
        }
        self.started = started
        self.plannedWorkers = context.maxWorkers
        self.options = options
        self.host = context.host
        self.persistent = options.persistent || context.policy == .persistent
        self.database = database
        self.theorems = theorems
        self.image = ImageFile(image: database.image)
        self.imageBlob = context.host.publishBlob(fileDescriptor: image.descriptor)
        self.outcomes = OutcomeTable(count: theorems.count)
        // A one-shot worker maps and checks the whole image for each batch (measured on the x10
        // database: about 20 ms from one batch's end to the next one's first proof): fewer,
        // larger batches. A persistent worker keeps the image, so small batches cost little.
        self.planner = BatchPlanner(costs: theorems.indices.map(theorems.cost(at:)), workers: context.maxWorkers,
                                    batchesPerWorker: options.batchesPerWorker, minimumShare: self.persistent ? 12 : 4)
        self.progress = ProgressCounter(host: context.host, unit: "proofs", total: theorems.count)
        // One batch per worker now; the rest as workers free up (`pull`), sized by what is left.
        _ = pull(upTo: context.maxWorkers)
    }

    /// For a journal: the database image's digest and what the batches are planned from (the
    /// worker count and the policy), so a resume with another database or plan is refused.
    func journalIdentity() -> [UInt8] {
        Array("image \(image.digest) workers \(plannedWorkers) persistent \(persistent)".utf8)
    }

    mutating func pull(upTo max: Int) -> PullResult {
        var pushed = 0
        while pushed < max, let batch = planner.nextBatch() {
            host.push(.verify(first: Int32(batch.first), count: Int32(batch.count)))
            batchSizes[Int32(batch.first)] = Int32(batch.count)
            pushed += 1
        }
        return planner.isExhausted ? .exhausted : .moreMayCome
    }

    func taskMatch(_ task: ProofTask, worker: WorkerStatus<UInt64>) -> Bool {
        switch task {
        case .verify: return true
        // A proof state is asked of the worker that found the failure: it holds the image.
        case .state: return worker.competence == image.digest
        }
    }

    func request(for task: ProofTask, worker: WorkerStatus<UInt64>) throws -> ProofRequest? {
        let reference = worker.competence == image.digest ? nil : imageReference(for: worker)
        switch task {
        case .verify(let first, let count):
            return ProofRequest(image: reference, work: .verify((Int(first) ..< Int(first + count)).map(theorems.statementIndex(at:))))
        case .state(let position, let step):
            return ProofRequest(image: reference, work: .state(theorem: theorems.statementIndex(at: Int(position)), afterStep: step - 1))
        }
    }

    /// How `worker` reaches the image: through the host's blob (a worker on another machine gets
    /// a verified copy, fetched once per machine), else by the master's `/proc` path.
    private func imageReference(for worker: WorkerStatus<UInt64>) -> ImageReference {
        let blob = imageBlob.flatMap { blob in worker.name.flatMap { host.blobReference(blob, for: $0) } } ?? []
        return ImageReference(path: image.path, digest: image.digest, isMastersOwnFile: true, blob: blob)
    }

    mutating func useResponse(_ response: ProofResponse, for task: ProofTask, worker: WorkerStatus<UInt64>)
        -> ResponseDecision<UInt64, ProofTask>
    {
        switch (task, response) {
        case (.verify(let first, let count), .verified(let verifiedCount, let problems)):
            let range = Int(first) ..< Int(first + count)
            // Every problem names a theorem of the batch, each at most once, and the counts add
            // up; otherwise the answer is not believed (a worker that named one theorem twice
            // would leave another unanswered and counted verified): the master checks the batch.
            let positions = problems.compactMap { position(of: $0.theorem) }
            let problemPositions = Set(positions)
            guard Int(verifiedCount) + problems.count == range.count, problemPositions.count == problems.count,
                  problemPositions.allSatisfy(range.contains)
            else {
                return .end(runInMaster(task, because: "the worker's answer did not fit its batch "
                                        + "(\(verifiedCount) verified, \(problems.count) problems for \(range.count) theorems)"))
            }
            var followUps: [ProofTask] = []
            for (problem, position) in zip(problems, positions) {
                outcomes.record(problem.result, at: position)
                if case .failed(let failure) = problem.result {
                    failures[position] = FailureRecord(position: position, failure: failure)
                    followUps.append(.state(position: Int32(position), step: Int32(failure.step)))
                }
            }
            outcomes.recordVerified(range, except: problemPositions)
            workersSeen.insert(worker.name ?? "")
            settleProgress(first: first, size: range.count)
            if followUps.isEmpty {
                return persistent ? .stay(image.digest) : .end()
            }
            // Stay: the same worker, which holds the image, computes each failing proof's state.
            let labels = followUps.compactMap { task -> String? in
                if case .state(let position, _) = task { return Echo.text(theorems.label(at: Int(position))) } else { return nil }
            }
            return .stay(image.digest, followUps: followUps,
                         outcome: .failed("\(labels.count) proof\(labels.count == 1 ? "" : "s") failed: \(labels.joined(separator: ", "))"))
        case (.state(let position, _), .state(let stack)):
            failures[Int(position)]?.stack = stack
            return persistent ? .stay(image.digest) : .end()
        default:
            return .end(runInMaster(task, because: "the worker's answer does not fit the task"))
        }
    }

    /// The position in ``theorems`` of the theorem with statement index `statement`, if any.
    private func position(of statement: Int32) -> Int? {
        theorems.position(ofStatement: statement)
    }

    mutating func feedback(_ note: ProgressNote, from worker: String) {
        guard let first = position(of: note.batch).map(Int32.init), let size = batchSizes[first] else { return }
        progress.advance(batch: first, size: Int(size), by: Int(note.count))
    }

    /// Counts the rest of a batch once it is finished.
    private mutating func settleProgress(first: Int32, size: Int) {
        batchSizes[first] = nil
        progress.settle(batch: first, size: size)
    }

    mutating func marshalError(_ message: String, task: ProofTask?) -> TaskVerdict? {
        guard let task else { return nil }
        return runInMaster(task, because: message)
    }

    mutating func taskLost(_ task: ProofTask?, reason: LossReason, message: String, willRetry: Bool) -> TaskVerdict? {
        // A batch whose worker died or hung is split in two, as ParMap does: a proof that kills
        // its worker (one that exhausts memory, say) ends up alone, and its batch-mates verify.
        if case .verify(let first, let count)? = task, count > 1,
           reason == .workerDied || reason == .expired || reason == .outOfMemory {
            let half = count / 2
            batchSizes[first] = half
            batchSizes[first + half] = count - half
            progress.split(batch: first, at: half, size: Int(count))
            host.push(.verify(first: first, count: half), priority: -1)
            host.push(.verify(first: first + half, count: count - half), priority: -1)
            host.log("proofcheck: worker lost (\(reason)) on \(describe(Int(first) ..< Int(first + count))): "
                     + "checking it in two halves: \(message)", level: .warning)
            return .done
        }
        guard let task, !willRetry else { return nil }
        switch reason {
        case .spawnFailed, .orphaned:
            // No worker can take it: check it here so the database is still verified.
            return runInMaster(task, because: message)
        case .cancelled:
            return nil  // Its theorems stay pending: the report counts them as not checked.
        default:
            if case .verify(let first, let count) = task {
                outcomes.recordLost(Int(first) ..< Int(first + count), reason: "\(reason): \(message)")
            }
            return nil
        }
    }

    /// The seed's fallback: does the task's work in the master, with a warning.
    private mutating func runInMaster(_ task: ProofTask, because message: String) -> TaskVerdict {
        let verifier = masterVerifier ?? Verifier(database: database)
        masterVerifier = verifier
        switch task {
        case .verify(let first, let count):
            let range = Int(first) ..< Int(first + count)
            host.log("proofcheck: checking \(describe(range)) in the master: \(message)", level: .warning)
            var failed: [String] = []
            for position in range {
                let result = verifier.verify(theorem: theorems.statementIndex(at: position))
                outcomes.record(result, at: position)
                if case .failed(let failure) = result {
                    failed.append(Echo.text(theorems.label(at: position)))
                    let stack = verifier.stack(theorem: theorems.statementIndex(at: position), afterStep: failure.step - 1)
                    failures[position] = FailureRecord(position: position, failure: failure, stack: stack)
                }
            }
            checkedInMaster += range.count
            settleProgress(first: first, size: range.count)
            return failed.isEmpty ? .done : .failed("\(failed.count) proof\(failed.count == 1 ? "" : "s") failed: \(failed.joined(separator: ", "))")
        case .state(let position, let step):
            failures[Int(position)]?.stack = verifier.stack(theorem: theorems.statementIndex(at: Int(position)), afterStep: Int(step) - 1)
            return .done
        }
    }

    private func describe(_ range: Range<Int>) -> String {
        range.count == 1 ? "theorem \(Echo.text(theorems.label(at: range.lowerBound)))"
            : "\(range.count) theorems \(Echo.text(theorems.label(at: range.lowerBound))) … \(Echo.text(theorems.label(at: range.upperBound - 1)))"
    }

    mutating func finish(summary: RunSummary) -> KindReport {
        database.waitForCache()
        let seconds = Double(ProofCheckWorker.now() &- started) / 1e9
        let report = ProofCheckReport(
            path: options.path, theorems: theorems, outcomes: outcomes, failures: failures,
            seconds: seconds, workers: workersSeen.count, checkedInMaster: checkedInMaster, strict: options.strict)
        return KindReport(options.json ? report.json() : report.text(), exitStatus: report.exitStatus)
    }

    func name(of task: ProofTask) -> String? {
        switch task {
        case .verify(let first, let count): return describe(Int(first) ..< Int(first + count))
        case .state(let position, let step): return "state of \(Echo.text(theorems.label(at: Int(position)))) before step \(step)"
        }
    }
}
