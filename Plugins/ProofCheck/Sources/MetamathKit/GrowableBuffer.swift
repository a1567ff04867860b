/// A growable array of trivial values for the parser's hot paths: appends and reads compile to
/// a bounds check and a memory access (a Swift `Array` also checks uniqueness on every write).
///
/// Memory-safe: the allocation belongs to a class instance that every copy of the buffer
/// retains, so a copy keeps the storage it was made from alive. Copies share that storage until
/// one of them grows; the parser never keeps two copies it writes to.
struct GrowableBuffer<Element: BitwiseCopyable> {
    /// Owns one allocation and frees it when the last buffer referring to it goes away.
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

    /// The last element (the buffer must not be empty).
    var last: Element { self[count - 1] }

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

    /// Appends `slice.count` elements of this buffer starting at `start` (a copy inside the buffer).
    mutating func appendCopy(from start: Int, count n: Int) {
        precondition(start >= 0 && n >= 0 && start + n <= count, "range out of bounds")
        reserve(n)
        (base + count).update(from: base + start, count: n)
        count += n
    }

    /// Makes room for `n` more elements.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
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

    /// The elements as an array.
    var array: [Element] { withUnsafeBufferPointer { Array($0) } }
}
