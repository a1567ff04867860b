// metamath-verify: MetamathKit in one process, one thread, no host: the peer ProofCheck's
// benchmark compares against (how long parsing and pure proof checking take), and a quick
// check of a database by hand.
//
//     metamath-verify FILE.mm
//
// Prints one line: proofs, verified, failed, incomplete, compile and verify milliseconds.
// Exit status 0 when every proof verified or is incomplete, 1 on a failed proof, 2 on a
// database that cannot be read.

import MetamathKit

#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to standard error.
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func milliseconds(since start: timespec) -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec - start.tv_sec) * 1e3 + Double(now.tv_nsec - start.tv_nsec) / 1e6
}

func now() -> timespec {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return time
}

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    printError("usage: metamath-verify FILE.mm")
    exit(2)
}
let compileStart = now()
let database: CompiledDatabase
do {
    database = try CompiledDatabase.compile(path: arguments[1])
} catch {
    printError("metamath-verify: \(error)")
    exit(2)
}
let compileMilliseconds = milliseconds(since: compileStart)
let verifyStart = now()
let verifier = Verifier(database: database)
var verified = 0, failed = 0, incomplete = 0
for theorem in database.theorems {
    switch verifier.verify(theorem: theorem.index) {
    case .verified: verified += 1
    case .incomplete: incomplete += 1
    case .failed(let failure):
        failed += 1
        printError("\(theorem.file):\(theorem.line): theorem \(Echo.text(theorem.label)): step \(failure.step) (\(failure.label)): \(failure.message)")
    }
}
let verifyMilliseconds = milliseconds(since: verifyStart)
func format(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }
print("metamath-verify: \(database.theorems.count) proofs: \(verified) verified, \(failed) failed, \(incomplete) incomplete; "
      + "compile_ms=\(format(compileMilliseconds)) verify_ms=\(format(verifyMilliseconds)) image_bytes=\(database.image.byteCount)")
exit(failed > 0 ? 1 : 0)
