import MetamathKit
import PluginKit

/// ProofCheck's own command-line arguments.
struct ProofCheckOptions: Equatable {
    /// The database to verify.
    var path: String
    /// Verify only this theorem (and report its errors).
    var theorem: String?
    /// Keep workers alive between batches (Coq's `par:`); also implied by `--policy persistent`.
    var persistent = false
    /// Incomplete proofs (`?` steps) make the run fail.
    var strict = false
    /// Print the report as one JSON object instead of text.
    var json = false
    /// Fixed number of batches per worker instead of the adaptive plan (tests and benchmarks).
    var batchesPerWorker: Int?
    /// The directory of compiled images to reuse (see ``ImageCache``), if any.
    var imageCache: String?

    static let usage = """
        proofcheck [--theorem LABEL] [--persistent] [--strict] [--json] [--batches-per-worker N]
                   [--image-cache DIR] FILE.mm
          FILE.mm                 the Metamath database ($[ $] includes are followed)
          --theorem LABEL         verify this theorem only
          --persistent            keep workers between batches (default: a fresh worker per batch)
          --strict                incomplete proofs (? steps) fail the run
          --json                  print the report as one JSON object on stdout
          --batches-per-worker N  split the proofs into N equal-cost batches per worker
                                  (default: guided batches, large first, smaller towards the end)
          --image-cache DIR       keep the compiled database image in DIR (private, mode 700,
                                  created if missing) and reuse it when the same database is
                                  checked again (a resumed run, say): verified before use
        Exit status: 0 every proof verified (incomplete ones too, unless --strict), 1 a proof
        failed, 2 the database cannot be read or parsed, or a usage error.
        """

    /// Parses `arguments` (without the command name).
    init(arguments: [String]) throws(UsageError) {
        var path: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--theorem":
                guard let label = remaining.popFirst(), !label.isEmpty else { throw UsageError("--theorem needs a label") }
                theorem = label
            case "--persistent": persistent = true
            case "--strict": strict = true
            case "--json": json = true
            case "--batches-per-worker":
                guard let value = remaining.popFirst(), let count = Int(value), count >= 1 else {
                    throw UsageError("--batches-per-worker needs a number of at least 1")
                }
                batchesPerWorker = count
            case "--image-cache":
                guard let directory = remaining.popFirst(), !directory.isEmpty else { throw UsageError("--image-cache needs a directory") }
                imageCache = directory
            case "--":
                guard let file = remaining.popFirst(), remaining.isEmpty, path == nil else {
                    throw UsageError("give exactly one database file")
                }
                path = file
            case let option where option.hasPrefix("-") && option.count > 1:
                throw UsageError("unknown option \(Echo.text(option))")
            default:
                guard path == nil else { throw UsageError("give exactly one database file (got \(Echo.text(path!)) and \(Echo.text(argument)))") }
                path = argument
            }
        }
        guard let path else { throw UsageError("name the database to verify: proofcheck FILE.mm") }
        self.path = path
    }
}
