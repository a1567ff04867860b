/// A growable buffer of trivial values, reused across proofs so verification does not allocate
/// per step. The owner must call ``deallocate()`` exactly once.
struct ScratchBuffer<Element: BitwiseCopyable> {
    /// The first element.
    private(set) var base: UnsafeMutablePointer<Element>
    /// How many elements fit.
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    /// Makes room for `needed` elements, keeping the first `count`.
    @inline(__always)
    mutating func reserve(_ needed: Int, keeping count: Int) {
        if needed > capacity { grow(to: needed, keeping: count) }
    }

    private mutating func grow(to needed: Int, keeping count: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: size)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = size
    }

    @inline(__always)
    subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }

    func deallocate() {
        base.deallocate()
    }
}
