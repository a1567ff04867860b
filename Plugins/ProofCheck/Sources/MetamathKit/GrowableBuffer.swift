/// A growable array of trivial values for the parser's hot paths: appends and reads compile to
/// a bounds check and a memory access (a Swift `Array` also checks uniqueness on every write).
///
/// Memory-safe: the allocation belongs to a class instance that every copy of the buffer
/// retains, so a copy keeps the storage it was made from alive. Copies share that storage until
/// one of them grows; the parser never keeps two copies it writes to.
struct GrowableBuffer<Element: BitwiseCopyable> {
    /// Owns one allocation and frees it when the last buffer referring to it goes away.
    ///
    /// Plain heap memory in 4 KB pages. Transparent huge pages were tried for the big arrays
    /// (`MADV_HUGEPAGE`): usually 5 times cheaper to fault in per MB, but on these virtual
    /// machines a huge page that the host has not backed yet costs ten times more, often
    /// enough that the master's CPU time for the ×10 database was 203 ms (median of 12, min
    /// 160) with them against 174 ms (min 168) without.
    private final class Allocation {
        let base: UnsafeMutablePointer<Element>

        init(capacity: Int) {
            base = .allocate(capacity: capacity)
        }

        deinit { base.deallocate() }
    }

    private var allocation: Allocation
    /// The first element (valid for ``capacity`` elements).
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 16)
        allocation = Allocation(capacity: self.capacity)
        base = allocation.base
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    subscript(index: Int) -> Element {
        get {
            precondition(UInt(bitPattern: index) < UInt(bitPattern: count), "index out of range")
            return base[index]
        }
        set {
            precondition(UInt(bitPattern: index) < UInt(bitPattern: count), "index out of range")
            base[index] = newValue
        }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(to: count + 1) }
        base[count] = element
        count &+= 1
    }

    /// Appends `n` copies of `element`.
    mutating func append(repeating element: Element, count n: Int) {
        reserve(n)
        (base + count).initialize(repeating: element, count: n)
        count += n
    }

    /// Appends `n` elements from `source`.
    mutating func append(from source: UnsafePointer<Element>, count n: Int) {
        reserve(n)
        (base + count).update(from: source, count: n)
        count += n
    }

    /// Makes room for `n` more elements.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
    }

    /// Room for at least `n` more elements, to be written in place and then counted with
    /// ``commitAppended(_:)``: a hot loop can keep the pointer and count in registers.
    mutating func appendSpace(minimum n: Int) -> UnsafeMutableBufferPointer<Element> {
        reserve(n)
        return UnsafeMutableBufferPointer(start: base + count, count: capacity - count)
    }

    /// Counts `k` elements written in place after the last one (see ``appendSpace(minimum:)``).
    mutating func commitAppended(_ k: Int) {
        precondition(k >= 0 && k <= capacity - count, "more elements than the space had")
        count += k
    }

    /// Drops the elements from `newCount` on.
    mutating func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count, "count out of range")
        count = newCount
    }

    mutating func removeAll() { count = 0 }

    private mutating func grow(to needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let larger = Allocation(capacity: size)
        larger.base.update(from: base, count: count)
        allocation = larger
        base = larger.base
        capacity = size
    }

    /// The elements, read-only, for the duration of `body`.
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(allocation) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }
}
