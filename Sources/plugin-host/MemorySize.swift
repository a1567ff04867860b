/// A size as GNU parallel writes it (`--memfree 2G`): a number of bytes, optionally followed by
/// K, M, G, T or P (powers of 1024) or k, m, g, t or p (powers of 1000).
enum MemorySize {
    /// The size in bytes, or nil when `text` is not a size (or does not fit).
    static func bytes(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50,
                                       "k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "t": 1_000_000_000_000,
                                       "p": 1_000_000_000_000_000]
        let multiplier = units[last]
        let number = multiplier == nil ? Substring(text) : text.dropLast()
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let bytes = value * Double(multiplier ?? 1)
        guard bytes < Double(Int.max) else { return nil }
        return Int(bytes)
    }
}
