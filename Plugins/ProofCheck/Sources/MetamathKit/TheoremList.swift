/// The `$p`s of a compiled database, in database order (or one of them, see ``only(_:)``),
/// read from its image when asked: nothing is built per theorem up front.
///
/// Positions run from 0 to `count`; position `i` is the database's theorem `first + i`.
public struct TheoremList: RandomAccessCollection, @unchecked Sendable {
    // @unchecked: the view reads immutable image bytes that `storage` keeps alive.
    private let storage: ImageStorage
    private let view: ImageView
    private let first: Int
    public let count: Int

    init(storage: ImageStorage) throws(DatabaseError) {
        do {
            view = try ImageView(bytes: storage.bytes)
        } catch {
            throw DatabaseError(file: "", line: 0, message: "invalid database image: \(error.message)")
        }
        self.storage = storage
        first = 0
        count = view.theoremCount
    }

    private init(_ list: TheoremList, first: Int, count: Int) {
        storage = list.storage
        view = list.view
        self.first = first
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// The theorem at `position`.
    public subscript(position: Int) -> TheoremInfo {
        let statement = Int(statementIndex(at: position))
        return TheoremInfo(
            index: Int32(statement),
            label: view.label(ofStatement: statement),
            file: view.fileName(ofStatement: statement),
            line: view.line(ofStatement: statement),
            proofCost: cost(at: position))
    }

    /// The statement index of the theorem at `position` (what ``Verifier/verify(theorem:)`` takes).
    public func statementIndex(at position: Int) -> Int32 {
        precondition(position >= 0 && position < count, "theorem position out of range")
        return view.theorem(first + position, ImageLayout.TheoremRecord.statement)
    }

    /// The label of the theorem at `position`.
    public func label(at position: Int) -> String {
        view.label(ofStatement: Int(statementIndex(at: position)))
    }

    /// The cost estimate of the theorem at `position` (see ``TheoremInfo/proofCost``).
    public func cost(at position: Int) -> Int {
        precondition(position >= 0 && position < count, "theorem position out of range")
        return Int(view.theorem(first + position, ImageLayout.TheoremRecord.cost))
    }

    /// The position of the theorem whose statement index is `statement`, if it is in the list
    /// (a binary search: statement indices grow with positions).
    public func position(ofStatement statement: Int32) -> Int? {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if statementIndex(at: middle) < statement { low = middle + 1 } else { high = middle }
        }
        return low < count && statementIndex(at: low) == statement ? low : nil
    }

    /// The position of the theorem labelled `label`, if it is in the list (found through the
    /// image's name table: no label is read per theorem).
    public func position(labeled label: String) -> Int? {
        var label = label
        let statement = label.withUTF8 { text -> Int32 in
            guard let start = text.baseAddress, text.count > 0 else { return -1 }
            return view.statement(labeled: start, count: text.count)
        }
        return statement >= 0 ? position(ofStatement: statement) : nil
    }

    /// A list of the one theorem at `position`.
    public func only(_ position: Int) -> TheoremList {
        precondition(position >= 0 && position < count, "theorem position out of range")
        return TheoremList(self, first: first + position, count: 1)
    }
}
