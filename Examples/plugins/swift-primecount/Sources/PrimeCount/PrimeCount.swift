// primecount: a task kind in Swift. One task per argument N, the primes below N counted by
// persistent workers that keep their sieve between tasks; the master reports the counts.
import PluginKit

@_cdecl("plugin_host_entry")
public func pluginHostEntry(_ major: UInt32, _ minor: UInt32,
                            _ out: UnsafeMutablePointer<PluginDescriptor>?) -> Int32 {
    PluginExport.fill(out, hostMajor: major, hostMinor: minor, kind: PrimeCount.self)
}

/// The master side: queues the tasks, keeps the workers, gathers the counts.
struct PrimeCount: TaskKind {
    typealias Task = Int            // N
    typealias Request = Int
    typealias Response = Int        // the number of primes below N
    typealias Competence = Int      // the size of the sieve an old worker holds
    typealias Worker = Sieve
    static let name = "primecount", version = "1.0", summary = "Counts the primes below each N."
    static let usage = "primecount N..."
    static let defaultPolicy = WorkerPolicy.persistent
    var counts: [Int: Int] = [:]

    init(arguments: [String], context: OpenContext<PrimeCount>) throws {
        guard !arguments.isEmpty else { throw UsageError("usage: \(Self.usage)") }
        for argument in arguments {
            guard let n = Int(argument), n >= 0 else { throw UsageError("not a count: '\(argument)'") }
            context.host.push(n)
        }
    }
    func request(for n: Int, worker: WorkerStatus<Int>) throws -> Int? { n }
    mutating func useResponse(_ primes: Int, for n: Int,
                              worker: WorkerStatus<Int>) -> ResponseDecision<Int, Int> {
        counts[n] = primes
        return .stay(max(n, worker.competence ?? 0))   // the worker stays, its sieve grown to n
    }
    func name(of n: Int) -> String? { "N=\(n)" }       // failure lines and events say N=...
    mutating func finish(summary: RunSummary) -> KindReport {
        KindReport(counts.sorted { $0.key < $1.key }.map { "primes below \($0.key): \($0.value)" }
            .joined(separator: "\n"))
    }
}

/// The worker side: a sieve of Eratosthenes, grown when a task needs a larger one.
struct Sieve: TaskWorker {
    static let largest = 100_000_000
    var isComposite: [Bool] = []

    init(name: String) {}
    mutating func perform(_ n: Int, context: borrowing PerformContext<String>) throws -> Int {
        // An ordinary failure: the task fails with this message, the worker and its sieve stay.
        guard n <= Self.largest else { throw TaskFailure("\(n) is above the largest N, \(Self.largest)") }
        if isComposite.count < n { grow(to: n) }
        var primes = 0
        for i in 0..<n where i >= 2 && !isComposite[i] { primes += 1 }
        return primes
    }
    private mutating func grow(to n: Int) {
        isComposite = Array(repeating: false, count: n)
        var i = 2
        while i * i < n {
            if !isComposite[i] { for j in stride(from: i * i, to: n, by: i) { isComposite[j] = true } }
            i += 1
        }
    }
}
