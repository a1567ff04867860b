// GNU make's jobserver over in-memory workers: a worker beyond the first starts only on a token
// taken from make's pipe (or FIFO), and every token goes back, also when the run is cancelled.
@testable import PluginHost
import PluginProtocol
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// make's side of a jobserver: a pipe (`R,W`) or a FIFO, holding tokens.
private final class FakeMake: @unchecked Sendable {
    let makeflags: String
    private let readEnd: Int32
    private let writeEnd: Int32
    private let directory = TemporaryDirectory()

    init(fifo: Bool) {
        if fifo {
            let path = directory.file("jobserver")
            _ = mkfifo(path, 0o600)
            readEnd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
            writeEnd = readEnd
            makeflags = " -j3 --jobserver-auth=fifo:\(path)"
        } else {
            var fds: [Int32] = [-1, -1]
            _ = pipe(&fds)
            readEnd = fds[0]
            writeEnd = fds[1]
            _ = fcntl(readEnd, F_SETFL, O_NONBLOCK)
            makeflags = " -j3 --jobserver-auth=\(readEnd),\(writeEnd)"
        }
    }

    deinit {
        close(readEnd)
        if writeEnd != readEnd { close(writeEnd) }
    }

    func put(_ count: Int) {
        for _ in 0..<count {
            var token: UInt8 = UInt8(ascii: "+")
            _ = write(writeEnd, &token, 1)
        }
    }

    /// Takes every token in the pipe; returns how many there were.
    func drain() -> Int {
        var count = 0
        var byte: UInt8 = 0
        while read(readEnd, &byte, 1) == 1 { count += 1 }
        return count
    }
}

@Suite("make's jobserver over in-memory workers")
struct InMemoryJobserverTests {
    @Test("a worker beyond the first waits for a token from make; every token goes back when the run ends",
          arguments: [false, true])
    func tokensGateWorkers(fifo: Bool) async throws {
        let make = FakeMake(fifo: fifo)
        make.put(1)
        var configuration = HostConfiguration.test(jobs: 4)
        configuration.jobserver = try MakeJobserver.fromMakeflags(make.makeflags)
        // Each spawn counts the workers not yet reaped: never more than the tokens plus one.
        let transport = InMemoryTransportBox()
        let test = try InMemoryRun(chaos: ["hang", "hang", "hang"], configuration, transport: transport.make { index in
            let alive = transport.aliveBefore(index)
            transport.record(alive + 1)
        })
        test.test.start()
        _ = await test.log.waitForStart(of: 1)
        _ = await test.log.waitForStart(of: 2)
        // Two workers: the one every recipe may run, and one on make's token. The third waits.
        #expect(test.log.starts.count == 2 && test.transport.spawnCount == 2, "starts: \(test.log.starts)")
        make.put(1)  // make frees a slot: the third task starts.
        _ = await test.log.waitForStart(of: 3)
        #expect(transport.mostAlive == 3)
        test.run.cancelAll()
        let report = try await test.finish()
        #expect(report.counts.cancelled == 3)
        #expect(make.drain() == 2, "both tokens went back to make")
    }

    @Test("one-shot tasks under one token: at most two workers alive, the token back at the end")
    func oneShotTasksUnderOneToken() async throws {
        let make = FakeMake(fifo: false)
        make.put(1)
        var configuration = HostConfiguration.test(jobs: 4)
        configuration.jobserver = try MakeJobserver.fromMakeflags(make.makeflags)
        let transport = InMemoryTransportBox()
        let test = try InMemoryRun(chaos: (1...12).map { "echo:\($0)" }, configuration, transport: transport.make { index in
            transport.record(transport.aliveBefore(index) + 1)
        })
        let report = try await test.startAndFinish()
        #expect(report.counts.done == 12)
        #expect(transport.mostAlive <= 2, "most alive: \(transport.mostAlive)")
        #expect(make.drain() == 1)
    }

    @Test("MAKEFLAGS: --jobserver-auth (or --jobserver-fds), the last one wins; none, or a bad one, said in one line")
    func makeflagsParsing() throws {
        #expect(MakeJobserver.authorization(in: "-j3 --jobserver-auth=3,4") == "3,4")
        #expect(MakeJobserver.authorization(in: " -j --jobserver-fds=5,6 --jobserver-auth=fifo:/tmp/x") == "fifo:/tmp/x")
        #expect(MakeJobserver.authorization(in: "-k -s") == nil)
        #expect(try MakeJobserver.fromMakeflags(nil) == nil)
        #expect(try MakeJobserver.fromMakeflags("ks -j") == nil)
        #expect(throws: HostError.self) { try MakeJobserver.fromMakeflags("--jobserver-auth=x,y") }
        #expect(throws: HostError.self) { try MakeJobserver.fromMakeflags("--jobserver-auth=fifo:/nonexistent/jobserver") }
        // Descriptor numbers at the hard limit are never open (a fixed number such as 900 can be
        // another test's, running at the same time).
        var limit = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let unused = min(UInt64(limit.rlim_max), UInt64(Int32.max - 1))
        do {
            _ = try MakeJobserver.fromMakeflags("--jobserver-auth=\(unused),\(unused + 1)")
            Issue.record("descriptors that are not open were accepted")
        } catch {
            #expect(error.description == "MAKEFLAGS names the jobserver pipe \(unused),\(unused + 1), but descriptor \(unused) is not an open pipe here "
                    + "(make passes it only to a recipe line that starts with '+' or runs $(MAKE))")
        }
    }
}

/// Builds an ``InMemoryTransport`` whose spawns report to a closure, and keeps the most workers
/// seen alive at once.
private final class InMemoryTransportBox: @unchecked Sendable {
    private let lock = ConditionLock()
    private var transport: InMemoryTransport?
    private var most = 0

    func make(onSpawn: @escaping @Sendable (Int) -> Void) -> InMemoryTransport {
        let made = InMemoryTransport(start: { index, _ in
            onSpawn(index)
            return .hello
        })
        lock.withLock { transport = made }
        return made
    }

    /// Workers spawned before the `index`-th that are not reaped yet.
    func aliveBefore(_ index: Int) -> Int {
        let workers = lock.withLock { transport }?.workers ?? []
        return workers.prefix(index).filter { !$0.isReleased }.count
    }

    func record(_ alive: Int) { lock.withLock { most = max(most, alive) } }

    var mostAlive: Int { lock.withLock { most } }
}
