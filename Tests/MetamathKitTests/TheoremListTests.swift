import Testing
@testable import MetamathKit
#if canImport(Glibc)
import Glibc
#endif

/// The theorem list read from the image, and the parser's memory given back on another thread.
@Suite struct TheoremListTests {
    /// Two theorems around an axiom and hypotheses, the second in a block.
    private static let text = """
        $c wff |- ( ) -> $.
        $v p q $.
        wp $f wff p $.
        wq $f wff q $.
        ax $a |- ( p -> q ) $.
        first $p |- ( p -> q ) $= wp wq ax $.
        ${
          hyp $e |- p $.
          second $p |- ( p -> q ) $=
            wp wq ax $.
        $}
        """

    @Test func readsEachTheoremFromTheImage() throws {
        let database = try compile(Self.text)
        let theorems = database.theorems
        #expect(theorems.count == 2)
        #expect(theorems.map(\.label) == ["first", "second"])
        #expect(theorems.map(\.line) == [6, 9])
        #expect(theorems[0].file.hasSuffix("/test.mm"))
        let verifier = Verifier(database: database)
        for position in theorems.indices {
            let theorem = theorems[position]
            #expect(theorems.statementIndex(at: position) == theorem.index)
            #expect(theorems.label(at: position) == theorem.label)
            #expect(theorems.cost(at: position) == theorem.proofCost && theorem.proofCost > 0)
            #expect(theorems.position(ofStatement: theorem.index) == position)
            #expect(verifier.theoremInfo(index: theorem.index).label == theorem.label)
        }
        // Statements that are not theorems (a $f, the axiom, the $e) have no position.
        for statement in Int32(0) ..< theorems.statementIndex(at: 1) where statement != theorems.statementIndex(at: 0) {
            #expect(theorems.position(ofStatement: statement) == nil)
        }
        #expect(theorems.position(labeled: "first") == 0 && theorems.position(labeled: "second") == 1)
        // Labels of other statements, math symbols, unknown names.
        for name in ["wp", "ax", "hyp", "wff", "p", "nothing", ""] {
            #expect(theorems.position(labeled: name) == nil, "\(name)")
        }
        #expect(theorems.only(1).position(labeled: "second") == 0 && theorems.only(1).position(labeled: "first") == nil)
        #expect(theorems.position(ofStatement: -1) == nil)
        #expect(theorems.position(ofStatement: 1_000) == nil)
    }

    @Test func oneTheoremOfTheList() throws {
        let theorems = try compile(Self.text).theorems
        let second = theorems.only(1)
        #expect(second.count == 1 && Array(second.indices) == [0])
        #expect(second[0] == theorems[1])
        #expect(second.position(ofStatement: theorems.statementIndex(at: 1)) == 0)
        #expect(second.position(ofStatement: theorems.statementIndex(at: 0)) == nil)
    }

    @Test func matchesTheSharedDatabases() throws {
        guard let path = SharedData.path("iset.mm") else { return }
        let database = try CompiledDatabase.compile(path: path)
        let theorems = database.theorems
        #expect(theorems.count == 8573)
        #expect(zip(theorems, theorems.dropFirst()).allSatisfy { $0.index < $1.index })
        for position in stride(from: 0, to: theorems.count, by: 97) {
            #expect(theorems.position(ofStatement: theorems.statementIndex(at: position)) == position)
        }
    }

    /// What Disposal was handed is freed, and not on the caller's thread.
    @Test func disposalFreesOnAnotherThread() {
        final class Tracked: @unchecked Sendable {
            let freed: UnsafeMutablePointer<sem_t>
            let freedOn: UnsafeMutablePointer<pthread_t>
            init(_ freed: UnsafeMutablePointer<sem_t>, _ freedOn: UnsafeMutablePointer<pthread_t>) {
                self.freed = freed
                self.freedOn = freedOn
            }
            deinit {
                freedOn.pointee = pthread_self()
                sem_post(freed)
            }
        }
        let freed = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        let freedOn = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
        defer { sem_destroy(freed); freed.deallocate(); freedOn.deallocate() }
        sem_init(freed, 0, 0)
        Disposal.release(Tracked(freed, freedOn))
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += 30
        #expect(sem_timedwait(freed, &deadline) == 0, "the value was never freed")
        #expect(pthread_equal(freedOn.pointee, pthread_self()) == 0)
    }
}
