import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The tokens of a database: its main file with every `$[ file $]` include expanded in place.
///
/// An include names a file relative to the including file's directory (or an absolute path);
/// a file already read (compared by its real path) is skipped.
struct TokenStream {
    private var current: Lexer
    private var suspended: [Lexer] = []
    private var contents: [FileContents] = []
    private var realPaths: Set<String> = []
    /// Every file read, by index (`Token.file`).
    private(set) var fileNames: [String] = []
    /// The size of the main file in bytes.
    let mainFileSize: Int

    /// Whether the database has an include (`$[ $]`), followed or skipped: then the main file
    /// alone does not determine the database.
    private(set) var hasInclude = false

    /// Opens the main file. A failure names the file with line 0.
    init(path: String) throws(DatabaseError) {
        self.init(path: path, main: try TokenStream.readMainFile(path))
    }

    /// The main file at `path`, already read (see ``readMainFile(_:)``).
    init(path: String, main file: FileContents) {
        contents = [file]
        mainFileSize = file.bytes.count
        fileNames = [path]
        current = Lexer(bytes: file.bytes, file: 0, fileName: path)
        if let real = TokenStream.realPath(path) { realPaths.insert(real) }
    }

    /// Reads a database's main file (already open as `descriptor`, at its start, when given).
    /// A failure names the file with line 0.
    static func readMainFile(_ path: String, descriptor: Int32? = nil) throws(DatabaseError) -> FileContents {
        do {
            if let descriptor { return try FileContents(descriptor: descriptor, path: path) }
            return try FileContents(path: path)
        } catch {
            throw DatabaseError(file: path, line: 0, message: error.isChange ? error.message : "cannot read the database: \(error.message)")
        }
    }

    /// The next token of the database, or nil at its end.
    @inline(__always)
    mutating func next() throws(DatabaseError) -> Token? {
        while true {
            if let token = try current.next() {
                if token.count == 2 && token.start[0] == UInt8(ascii: "$") && token.start[1] == UInt8(ascii: "[") {
                    try include(at: token)
                    continue
                }
                return token
            }
            guard let outer = suspended.popLast() else { return nil }
            current = outer
        }
    }

    /// Reads the math symbols that come next in the current file (see ``Lexer/readSymbols(into:symbols:flags:allowingProof:)``).
    @inline(__always)
    mutating func readSymbols(into expressions: inout GrowableBuffer<Int32>, symbols: SymbolKeyTable.Lookup,
                              flags: UnsafePointer<UInt8>, allowingProof: Bool) -> Lexer.SymbolRun {
        current.readSymbols(into: &expressions, symbols: symbols, flags: flags, allowingProof: allowingProof)
    }

    /// Finds the end of the proof whose `$=` was just read (see ``Lexer/scanProof()``).
    mutating func scanProof() throws(DatabaseError) -> Lexer.ProofScan {
        try current.scanProof()
    }

    /// The name of file number `index`.
    func fileName(_ index: Int32) -> String { fileNames[Int(index)] }

    /// Reads `name $]` after a `$[` and starts reading the named file.
    private mutating func include(at open: Token) throws(DatabaseError) {
        hasInclude = true
        let includer = current.fileName
        guard let name = try current.next() else {
            throw DatabaseError(file: includer, line: Int(open.line), message: "\"$[\" is not followed by a file name and \"$]\"")
        }
        if name.startsWithDollar {
            throw DatabaseError(file: includer, line: Int(name.line), message: "expected a file name after \"$[\", found \"\(name.shown)\"")
        }
        guard let close = try current.next() else {
            throw DatabaseError(file: includer, line: Int(open.line), message: "include of \"\(name.shown)\" is not closed by \"$]\"")
        }
        guard close.keyword == .closeInclude else {
            throw DatabaseError(file: includer, line: Int(close.line), message: "expected \"$]\" after the include file name, found \"\(close.shown)\"")
        }
        let path = TokenStream.resolve(name.text, relativeTo: includer)
        guard let real = TokenStream.realPath(path) else {
            let reason = Errno(rawValue: errno).description
            throw DatabaseError(file: includer, line: Int(open.line), message: "cannot include \"\(Echo.text(path))\": \(reason)")
        }
        guard realPaths.insert(real).inserted else { return }  // each file is read once
        let file: FileContents
        do {
            file = try FileContents(path: path)
        } catch {
            if error.isChange { throw DatabaseError(file: path, line: 0, message: error.message) }
            throw DatabaseError(file: includer, line: Int(open.line), message: "cannot include \"\(Echo.text(path))\": \(error.message)")
        }
        contents.append(file)
        let index = Int32(fileNames.count)
        fileNames.append(path)
        suspended.append(current)
        current = Lexer(bytes: file.bytes, file: index, fileName: path)
    }

    /// `name` joined to the directory of `includer` (unless `name` is absolute).
    static func resolve(_ name: String, relativeTo includer: String) -> String {
        if name.utf8.first == UInt8(ascii: "/") { return name }
        guard let slash = includer.utf8.lastIndex(of: UInt8(ascii: "/")) else { return name }
        return String(includer[...slash]) + name
    }

    /// The canonical path of an existing file, or nil (with `errno` set).
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
