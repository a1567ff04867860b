/// Verifies theorems against an image (mapped or in memory).
///
/// Not thread-safe: use one per thread. It holds scratch buffers that every proof reuses, so
/// verification allocates nothing per step.
public final class Verifier {
    /// Keeps the image bytes alive (a ``MappedImage`` or an ``ImageStorage``).
    private let owner: AnyObject
    private var machine: ProofMachine

    /// A verifier over a mapped image file; a proof whose expressions outgrow `limits` fails.
    public init(image: MappedImage, limits: ProofLimits = .standard) {
        owner = image
        machine = ProofMachine(view: image.view, limits: limits)
    }

    /// A verifier over a database compiled in this process; a proof whose expressions outgrow
    /// `limits` fails.
    public init(database: CompiledDatabase, limits: ProofLimits = .standard) {
        let storage = database.image.storage
        owner = storage
        // The image was built by this library: its header is valid by construction.
        machine = ProofMachine(view: try! ImageView(bytes: storage.bytes), limits: limits)
    }

    deinit {
        machine.deallocate()
    }

    /// The number of theorems (`$p` statements) in the image.
    public var theoremCount: Int { machine.view.theoremCount }

    /// How many math symbols the proof machine's arena holds room for (it only grows): what the
    /// longest proof so far needed at once.
    var arenaCapacity: Int { machine.arena.capacity }

    /// Label, line and file of statement `index` (("", 0, "") for an index out of range).
    public func theoremInfo(index: Int32) -> (label: String, line: Int, file: String) {
        let view = machine.view
        guard index >= 0, Int(index) < view.statementCount else { return ("", 0, "") }
        let statement = Int(index)
        return (view.label(ofStatement: statement), view.line(ofStatement: statement), view.fileName(ofStatement: statement))
    }

    /// Verifies the proof of the theorem whose statement index is `index`.
    public func verify(theorem index: Int32) -> ProofResult {
        guard let record = machine.theoremRecord(ofStatement: index) else {
            return .failed(notATheorem(index))
        }
        do throws(ProofFailure) {
            let steps = try machine.run(theorem: record, limit: Int.max)
            let unknown = try machine.finish(steps: steps)
            return unknown > 0 ? .incomplete(unknownSteps: unknown) : .verified
        } catch {
            return .failed(error)
        }
    }

    /// The proof stack after executing steps 1...`step` (0 or less: none) of a theorem's proof,
    /// each entry rendered as its symbols joined by spaces ("|- ( ph -> ps )"), bottom first;
    /// an unknown step's placeholder is "?". A `step` past the end executes the whole proof
    /// (without the end-of-proof checks). Fails, saying why, if the steps before `step`
    /// cannot be executed. Bounded for messages: an entry longer than 64 KB of text ends in
    /// "… (N symbols)", and a stack of more than 100 entries shows its top 100 after one
    /// entry saying how many are left out.
    public func stack(theorem index: Int32, afterStep step: Int) -> Result<[String], ProofFailure> {
        guard let record = machine.theoremRecord(ofStatement: index) else {
            return .failure(notATheorem(index))
        }
        if step <= 0 { return .success([]) }
        do throws(ProofFailure) {
            _ = try machine.run(theorem: record, limit: step)
            return .success(machine.renderedStack())
        } catch {
            return .failure(error)
        }
    }

    private func notATheorem(_ index: Int32) -> ProofFailure {
        ProofFailure(step: 0, label: "", message: "statement \(index) is not a $p theorem of this database")
    }
}
