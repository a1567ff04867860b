import Testing
@testable import MetamathKit
#if canImport(Glibc)
import Glibc
#endif

/// `$[ file $]` includes.
@Suite struct IncludeTests {
    @Test func includeIsReadRelativeToTheIncludingFile() throws {
        let directory = TemporaryDirectory()
        directory.write("sub/defs.mm", "$c ( ) -> wff |- $.\n$v p q $.\nwp $f wff p $.\nwq $f wff q $.\n$[ more.mm $]\n")
        directory.write("sub/more.mm", "\n\nax $a |- ( p -> q ) $.\nthm $p |- ( p -> q ) $= wp wq ax $.\n")
        let main = directory.write("main.mm", "$[ sub/defs.mm $]\nmain $p |- ( q -> p ) $= wq wp ax $.\n")
        let database = try CompiledDatabase.compile(path: main)
        #expect(database.theorems.map(\.label) == ["thm", "main"])
        let included = try #require(database.theorem(labeled: "thm"))
        #expect(included.file == "\(directory.path)/sub/more.mm")
        #expect(included.line == 4)
        let mainTheorem = try #require(database.theorem(labeled: "main"))
        #expect(mainTheorem.file == main)
        #expect(mainTheorem.line == 2)
        let verifier = Verifier(database: database)
        for theorem in database.theorems {
            #expect(verifier.verify(theorem: theorem.index) == .verified)
        }
        #expect(verifier.theoremInfo(index: included.index) == ("thm", 4, "\(directory.path)/sub/more.mm"))
    }

    @Test func eachFileIsIncludedOnce() throws {
        let directory = TemporaryDirectory()
        directory.write("a.mm", "$c a $.\n")
        let main = directory.write("main.mm", "$[ a.mm $]\n$[ a.mm $]\n$[ ./a.mm $]\n$c b $.\n")
        _ = try CompiledDatabase.compile(path: main)
    }

    @Test func missingIncludeNamesTheIncluder() {
        let directory = TemporaryDirectory()
        let main = directory.write("main.mm", "$c a $.\n\n$[ missing.mm $]\n")
        do {
            _ = try CompiledDatabase.compile(path: main)
            Issue.record("compiled with a missing include")
        } catch {
            #expect(error.file == main)
            #expect(error.line == 3)
            #expect(error.message.contains("cannot include \"\(directory.path)/missing.mm\": No such file or directory"))
        }
    }

    @Test func errorInIncludedFileNamesThatFile() {
        let directory = TemporaryDirectory()
        let included = directory.write("bad.mm", "$c a $.\n$c a $.\n")
        let main = directory.write("main.mm", "$[ bad.mm $]\n")
        do {
            _ = try CompiledDatabase.compile(path: main)
            Issue.record("compiled a bad include")
        } catch {
            #expect(error.file == included)
            #expect(error.line == 2)
        }
    }

    /// A FIFO (as main file or include) is rejected at once: opening it must not wait for a
    /// writer. The compile runs on a helper thread; should it block, the test records that,
    /// and then opens the FIFO for writing itself so the helper ends (a failure, not a hang).
    @Test func fifoIsRejectedWithoutWaitingForAWriter() {
        let directory = TemporaryDirectory()
        let fifo = directory.path + "/pipe.mm"
        guard mkfifo(fifo, 0o644) == 0 else {
            Issue.record("mkfifo failed")
            return
        }
        directory.track(fifo)
        let main = directory.write("main.mm", "$c a $.\n\n$[ pipe.mm $]\n")
        for path in [main, fifo] {
            final class Outcome: @unchecked Sendable { var error: DatabaseError? }
            let outcome = Outcome()
            var done: [Int32] = [0, 0]
            guard pipe(&done) == 0 else {
                Issue.record("pipe failed")
                return
            }
            let (readEnd, writeEnd) = (done[0], done[1])
            let helper = HelperThread {
                do throws(DatabaseError) {
                    _ = try CompiledDatabase.compile(path: path)
                } catch {
                    outcome.error = error
                }
                var byte: UInt8 = 1
                _ = write(writeEnd, &byte, 1)
            }
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 5_000) != 1 {
                Issue.record("compiling \(path) waits for a writer of the FIFO")
                let writer = open(fifo, O_WRONLY | O_NONBLOCK)
                if writer >= 0 { close(writer) }
            }
            helper.join()
            close(readEnd)
            close(writeEnd)
            guard let error = outcome.error else {
                Issue.record("\(path) compiled")
                continue
            }
            #expect(error.message.contains("not a regular file"), "\(error)")
            if path == main {
                #expect(error.file == main && error.line == 3, "\(error)")
            }
        }
    }

    @Test func unterminatedInclude() {
        expectDatabaseError("$c a $.\n$[ x.mm\n", line: 2, "is not closed by \"$]\"")
        expectDatabaseError("$c a $.\n$[ x.mm $c\n", line: 2, "expected \"$]\" after the include file name")
    }

    @Test func strayIncludeEnd() {
        expectDatabaseError("$c a $.\n$]\n", line: 2, "\"$]\" without \"$[\"")
    }
}
