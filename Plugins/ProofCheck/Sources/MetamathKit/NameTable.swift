import CMetamath

/// Interns names (labels and math symbols, as byte slices) as dense `Int32` ids.
///
/// Open addressing with linear probing over a power-of-two slot array, kept at most 3/4 full
/// (the slots are also an image section: each empty slot costs every process that maps it).
/// A slot holds the name's hash and id together, so a probe touches one slot, one entry and
/// the bytes. The bytes of every name are copied into one pool, which becomes the image's
/// string section.
struct NameTable {
    /// Where a name's bytes are in ``pool``.
    struct Entry {
        var offset: Int32
        var length: Int32
    }

    /// All names' bytes, back to back.
    private(set) var pool: GrowableBuffer<UInt8>
    /// Per name id.
    private(set) var entries: GrowableBuffer<Entry>
    /// `hash << 32 | (id + 1)`, or 0 for an empty slot (the image's name slots section).
    private(set) var slots: GrowableBuffer<UInt64>
    private var mask: Int

    init(capacity: Int = 1 << 14) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        slots = GrowableBuffer(capacity: size)
        slots.append(repeating: 0, count: size)
        mask = size - 1
        pool = GrowableBuffer(capacity: capacity * 12)
        entries = GrowableBuffer(capacity: capacity)
    }

    /// The number of names.
    var count: Int { entries.count }

    /// The hash of a byte slice (FNV-1a).
    @inline(__always)
    static func hash(_ start: UnsafePointer<UInt8>, _ count: Int) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for i in 0 ..< count {
            h = (h ^ UInt32(start[i])) &* 0x0100_0193
        }
        return h
    }

    /// The id of the name spelled by the token, or -1.
    @inline(__always)
    func find(_ token: Token) -> Int32 {
        find(token.start, token.count, hash: NameTable.hash(token.start, token.count))
    }

    /// The id of the name `start[0..<count]` with hash `hash`, or -1.
    @inline(__always)
    func find(_ start: UnsafePointer<UInt8>, _ count: Int, hash: UInt32) -> Int32 {
        probe(start, count, hash: hash).id
    }

    /// Linear probing from the name's first slot: its id and slot, or -1 and the empty slot
    /// where the probe ended (where a new name with this hash goes).
    @inline(__always)
    private func probe(_ start: UnsafePointer<UInt8>, _ count: Int, hash: UInt32) -> (id: Int32, slot: Int) {
        var slot = Int(hash) & mask
        let tag = UInt64(hash) << 32
        let slots = self.slots.base, entries = self.entries.base, bytes = pool.base
        while true {
            let value = slots[slot]
            if value == 0 { return (-1, slot) }
            if value & 0xFFFF_FFFF_0000_0000 == tag {
                let id = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                let entry = entries[id]
                if Int(entry.length) == count && NameTable.equal(bytes + Int(entry.offset), start, count) {
                    return (Int32(id), slot)
                }
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for i in 0 ..< count where a[i] != b[i] { return false }
        return true
    }

    /// The id of the token's name, adding it if it is new.
    @inline(__always)
    mutating func intern(_ token: Token) -> Int32 {
        intern(token.start, token.count)
    }

    /// The id of the name `start[0..<count]`, adding it if it is new.
    mutating func intern(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        intern(start, count, hash: NameTable.hash(start, count))
    }

    /// The id of the name `start[0..<count]`, whose hash is `hash`, adding it if it is new
    /// (in the empty slot its probe ended at).
    @inline(__always)
    mutating func intern(_ start: UnsafePointer<UInt8>, _ count: Int, hash: UInt32) -> Int32 {
        let (id, slot) = probe(start, count, hash: hash)
        return id >= 0 ? id : insert(start, count, hash: hash, emptySlot: slot)
    }

    /// Starts loading the slot that a name with `hash` probes first. The table is large and
    /// its slots are hit at random, so each lookup misses the caches (about 150 ns here, 90 %
    /// of the time spent interning labels); a lookup made a few hundred instructions after
    /// this finds the slot loaded.
    @inline(__always)
    func prefetch(hash: UInt32) {
        cm_prefetch(slots.base + (Int(hash) & mask))
    }

    /// Adds a name that is not in the table, in `emptySlot` (where its probe ended) unless the
    /// table grows.
    private mutating func insert(_ start: UnsafePointer<UInt8>, _ count: Int, hash: UInt32, emptySlot: Int) -> Int32 {
        let id = Int32(entries.count)
        entries.append(Entry(offset: Int32(pool.count), length: Int32(count)))
        pool.append(from: start, count: count)
        let value = UInt64(hash) << 32 | UInt64(id + 1)
        if entries.count * 4 > slots.count * 3 {
            grow()
            place(value)
        } else {
            slots[emptySlot] = value
        }
        return id
    }

    private mutating func place(_ value: UInt64) {
        var slot = Int(truncatingIfNeeded: value >> 32) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = value
    }

    private mutating func grow() {
        let old = slots
        slots = GrowableBuffer(capacity: old.count * 2)
        slots.append(repeating: 0, count: old.count * 2)
        mask = slots.count - 1
        for i in 0 ..< old.count where old[i] != 0 { place(old[i]) }
    }

    /// Appends raw bytes that are not a name (a file name) to the pool; returns their offset.
    mutating func appendToPool(_ text: String) -> (offset: Int32, length: Int32) {
        let offset = Int32(pool.count)
        for byte in text.utf8 { pool.append(byte) }
        return (offset, Int32(pool.count) - offset)
    }

    /// The text of name `id`.
    func text(_ id: Int32) -> String {
        let entry = entries[Int(id)]
        return pool.withUnsafeBufferPointer { bytes in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(entry.offset) ..< Int(entry.offset + entry.length)]), as: UTF8.self)
        }
    }
}
