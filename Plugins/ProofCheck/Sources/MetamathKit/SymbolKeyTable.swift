/// The math symbols shorter than 8 bytes by their ``Token/key``: the parser's fast lookup of a
/// math string's tokens (one multiply, usually one probe, no byte comparison). Symbols of one or
/// two bytes (most of a math string's) are found directly by their key, below 2^16.
///
/// A symbol's name never changes and a name is never a symbol and something else, so an entry
/// stays valid for the whole parse. A key that is absent is not a declared symbol; longer
/// symbols are looked up through the ``NameTable``.
struct SymbolKeyTable {
    /// Keys (0: empty slot), a power-of-two count, at most half full.
    private var keys: GrowableBuffer<UInt64>
    private var values: GrowableBuffer<Int32>
    private var used = 0
    private var shift: UInt64
    /// The symbol of each key below ``shortKeys`` (1 or 2 bytes), or -1.
    private var short: GrowableBuffer<Int32>
    /// Keys below this are looked up in ``short``.
    static let shortKeys: UInt64 = 1 << 16

    init() {
        short = GrowableBuffer(capacity: Int(SymbolKeyTable.shortKeys))
        short.append(repeating: -1, count: Int(SymbolKeyTable.shortKeys))
        let size = 1024
        keys = GrowableBuffer(capacity: size)
        keys.append(repeating: 0, count: size)
        values = GrowableBuffer(capacity: size)
        values.append(repeating: -1, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> shift)
    }

    /// The symbol whose key is `key` (not 0), or -1.
    @inline(__always)
    func find(_ key: UInt64) -> Int32 {
        if key < SymbolKeyTable.shortKeys { return short.base[Int(key)] }
        let mask = keys.count &- 1
        var slot = slot(key)
        while true {
            let found = keys.base[slot]
            if found == key { return values.base[slot] }
            if found == 0 { return -1 }
            slot = (slot &+ 1) & mask
        }
    }

    /// The table for a loop that only reads it: pointers and sizes in values a hot loop can
    /// keep in registers. Valid until the table changes.
    struct Lookup {
        let short: UnsafePointer<Int32>
        let keys: UnsafePointer<UInt64>
        let values: UnsafePointer<Int32>
        let mask: Int
        let shift: UInt64

        /// The symbol whose key is `key` (not 0), or -1.
        @inline(__always)
        func find(_ key: UInt64) -> Int32 {
            if key < SymbolKeyTable.shortKeys { return short[Int(key)] }
            var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> shift)
            while true {
                let found = keys[slot]
                if found == key { return values[slot] }
                if found == 0 { return -1 }
                slot = (slot &+ 1) & mask
            }
        }
    }

    /// See ``Lookup``.
    var lookup: Lookup {
        Lookup(short: short.base, keys: keys.base, values: values.base, mask: keys.count - 1, shift: shift)
    }

    /// Records `symbol` under `key` (not 0, not yet present).
    mutating func insert(_ key: UInt64, symbol: Int32) {
        if key < SymbolKeyTable.shortKeys {
            short[Int(key)] = symbol
            return
        }
        if (used + 1) * 2 > keys.count { grow() }
        place(key, symbol)
        used += 1
    }

    private mutating func place(_ key: UInt64, _ symbol: Int32) {
        let mask = keys.count - 1
        var slot = slot(key)
        while keys[slot] != 0 { slot = (slot + 1) & mask }
        keys[slot] = key
        values[slot] = symbol
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        let size = oldKeys.count * 2
        keys = GrowableBuffer(capacity: size)
        keys.append(repeating: 0, count: size)
        values = GrowableBuffer(capacity: size)
        values.append(repeating: -1, count: size)
        shift -= 1
        for i in 0 ..< oldKeys.count where oldKeys[i] != 0 { place(oldKeys[i], oldValues[i]) }
    }
}
