/// Cuts a worker's stderr bytes into lines as they arrive, in pieces of any size: each complete
/// line goes out without its newline, and a line longer than ``longestLine`` bytes goes out in
/// parts, so a writer that never ends its line cannot make the host hold unbounded memory.
struct StderrLineSplitter {
    private var pending: [UInt8] = []

    /// The longest line kept whole.
    static let longestLine = 16_384

    /// Takes `bytes` and hands each line they complete to `emit`.
    mutating func feed<Bytes: Collection>(_ bytes: Bytes, emit: (ArraySlice<UInt8>) -> Void) where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: 10) {
            emit(pending[start..<newline])
            start = newline + 1
        }
        pending.removeSubrange(..<start)
        if pending.count > Self.longestLine {
            emit(pending[...])
            pending.removeAll()
        }
    }

    /// The stream ended: hands a last line without a newline to `emit`.
    mutating func finish(emit: (ArraySlice<UInt8>) -> Void) {
        if !pending.isEmpty { emit(pending[...]) }
        pending.removeAll()
    }
}
