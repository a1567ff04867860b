/// The `$d` pairs active for the theorem being proved, as a set of variable pairs.
///
/// Open addressing over `UInt64` keys (0 = empty); built on first need for each theorem from the
/// image's persistent `$d` stack, and cleared by rebuilding.
struct DisjointPairSet {
    private var keys = ScratchBuffer<UInt64>(capacity: 64)
    private var mask = 0

    /// The key of the unordered pair {a, b}.
    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        let low = min(a, b), high = max(a, b)
        return UInt64(UInt32(bitPattern: low) &+ 1) << 32 | UInt64(UInt32(bitPattern: high) &+ 1)
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// Replaces the contents with the pairs reachable from `top` in `nodes` (a, b, parent).
    mutating func load(nodes: UnsafePointer<Int32>, top: Int32) {
        var count = 0
        var node = top
        while node >= 0 {
            count += 1
            node = nodes[Int(node) * 3 + 2]
        }
        var size = 16
        while size < count * 2 + 2 { size <<= 1 }
        keys.reserve(size, keeping: 0)
        keys.base.update(repeating: 0, count: size)
        mask = size - 1
        node = top
        while node >= 0 {
            let n = Int(node) * 3
            insert(DisjointPairSet.key(nodes[n], nodes[n + 1]))
            node = nodes[n + 2]
        }
    }

    private mutating func insert(_ key: UInt64) {
        var slot = DisjointPairSet.slot(key, mask)
        while true {
            let existing = keys[slot]
            if existing == key { return }
            if existing == 0 {
                keys[slot] = key
                return
            }
            slot = (slot + 1) & mask
        }
    }

    /// Whether `$d a b` is in the set.
    @inline(__always)
    func contains(_ a: Int32, _ b: Int32) -> Bool {
        let key = DisjointPairSet.key(a, b)
        var slot = DisjointPairSet.slot(key, mask)
        while true {
            let existing = keys[slot]
            if existing == key { return true }
            if existing == 0 { return false }
            slot = (slot + 1) & mask
        }
    }

    func deallocate() {
        keys.deallocate()
    }
}
