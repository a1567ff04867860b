#if canImport(Glibc)
import Glibc
#endif

/// A growable array of trivial values for the parser's hot paths: appends and reads compile to
/// a bounds check and a memory access (a Swift `Array` also checks uniqueness on every write).
///
/// Memory-safe: the allocation belongs to a class instance that every copy of the buffer
/// retains, so a copy keeps the storage it was made from alive. Copies share that storage until
/// one of them grows; the parser never keeps two copies it writes to.
struct GrowableBuffer<Element: BitwiseCopyable> {
    /// Owns one allocation and frees it when the last buffer referring to it goes away.
    ///
    /// A large one is mapped directly and asks for transparent huge pages: the parser's big
    /// sections are written once, front to back, and 4 KB pages cost one fault each (about
    /// 16,000 per 64 MB).
    private final class Allocation {
        let base: UnsafeMutablePointer<Element>
        /// The mapped length, or 0 for heap memory.
        private let mappedBytes: Int

        init(capacity: Int) {
            let bytes = capacity * MemoryLayout<Element>.stride
            if bytes >= Allocation.hugeThreshold,
               let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
               address != MAP_FAILED {
                _ = madvise(address, bytes, MADV_HUGEPAGE)
                base = address.bindMemory(to: Element.self, capacity: capacity)
                mappedBytes = bytes
            } else {
                base = .allocate(capacity: capacity)
                mappedBytes = 0
            }
        }

        /// Allocations from this size on are mapped with huge pages.
        static var hugeThreshold: Int { 4 << 20 }

        deinit {
            if mappedBytes > 0 {
                munmap(base, mappedBytes)
            } else {
                base.deallocate()
            }
        }
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
