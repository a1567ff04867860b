import Testing
@testable import MetamathKit

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

    @Test func unterminatedInclude() {
        expectDatabaseError("$c a $.\n$[ x.mm\n", line: 2, "is not closed by \"$]\"")
        expectDatabaseError("$c a $.\n$[ x.mm $c\n", line: 2, "expected \"$]\" after the include file name")
    }

    @Test func strayIncludeEnd() {
        expectDatabaseError("$c a $.\n$]\n", line: 2, "\"$]\" without \"$[\"")
    }
}
