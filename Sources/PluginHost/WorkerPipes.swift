import CSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The three pipes between the master and one worker, every end close-on-exec: requests (the
/// worker's stdin), responses (its stdout) and its stderr.
struct WorkerPipes {
    /// The worker's ends, for its descriptors 0, 1 and 2.
    let childEnds: (Int32, Int32, Int32)
    /// The master's end of the request pipe (it writes).
    let input: Int32
    /// The master's end of the response pipe (it reads).
    let output: Int32
    /// The master's end of the stderr pipe (it reads).
    let errors: Int32

    /// Makes the three pipes; on failure closes what it made and throws the errno.
    static func make() throws(Errno) -> WorkerPipes {
        var ends: [Int32] = []
        for _ in 0..<3 {
            var pair: [Int32] = [-1, -1]
            guard csupport_pipe_cloexec(&pair) == 0 else {
                let error = Errno(rawValue: errno)
                for fd in ends { close(fd) }
                throw error
            }
            ends += pair
        }
        // pipe(2): [read end, write end]. The worker reads requests and writes the other two.
        return WorkerPipes(childEnds: (ends[0], ends[3], ends[5]), input: ends[1], output: ends[2], errors: ends[4])
    }

    /// Closes the worker's ends (once the worker holds its own copies).
    func closeChildEnds() {
        close(childEnds.0)
        close(childEnds.1)
        close(childEnds.2)
    }

    /// Closes every end (the worker could not be started).
    func closeAll() {
        closeChildEnds()
        close(input)
        close(output)
        close(errors)
    }
}
