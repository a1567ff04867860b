/// A fast, fixed-seed 64-bit hash of a byte range (the XXH64 construction), used as the image
/// digest: the same bytes give the same digest in every process and run.
enum Digest {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always)
    private static func rotate(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always)
    private static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        rotate(accumulator &+ input &* prime2, 31) &* prime1
    }

    @inline(__always)
    private static func merge(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
        (accumulator ^ round(0, lane)) &* prime1 &+ prime4
    }

    /// The digest of `bytes`.
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var stream = Stream()
        stream.update(bytes)
        return stream.finish()
    }

    /// Mixes the last bytes (fewer than 32) into `h` and finishes it.
    private static func finish(_ hash: UInt64, tail: UnsafeRawBufferPointer) -> UInt64 {
        var h = hash
        let count = tail.count
        var p = 0
        guard let base = tail.baseAddress else { return avalanche(h) }
        while p + 8 <= count {
            let k = round(0, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt64.self)))
            h = rotate(h ^ k, 27) &* prime1 &+ prime4
            p += 8
        }
        if p + 4 <= count {
            let k = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
            h = rotate(h ^ (k &* prime1), 23) &* prime2 &+ prime3
            p += 4
        }
        while p < count {
            h = rotate(h ^ (UInt64(base.load(fromByteOffset: p, as: UInt8.self)) &* prime5), 11) &* prime1
            p += 1
        }
        return avalanche(h)
    }

    private static func avalanche(_ hash: UInt64) -> UInt64 {
        var h = hash
        h ^= h >> 33
        h &*= prime2
        h ^= h >> 29
        h &*= prime3
        h ^= h >> 32
        return h
    }

    /// The digest of bytes given in pieces: ``finish()`` is the same for any split of the same
    /// bytes (``of(_:)`` gives them in one piece).
    struct Stream {
        private var v1 = prime1 &+ prime2, v2 = prime2, v3: UInt64 = 0, v4 = 0 &- prime1
        private var total = 0
        /// Bytes of an incomplete 32-byte stripe.
        private var pending = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        private var pendingCount = 0

        init() {}

        /// Adds `bytes`.
        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            let count = bytes.count
            total += count
            var p = 0
            if pendingCount > 0 {
                let take = min(32 - pendingCount, count)
                withUnsafeMutableBytes(of: &pending) { stripe in
                    stripe.baseAddress!.advanced(by: pendingCount).copyMemory(from: base, byteCount: take)
                }
                pendingCount += take
                p = take
                guard pendingCount == 32 else { return }
                consume(UInt64(littleEndian: pending.0), UInt64(littleEndian: pending.1),
                        UInt64(littleEndian: pending.2), UInt64(littleEndian: pending.3))
                pendingCount = 0
            }
            while p + 32 <= count {
                consume(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt64.self)),
                        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self)),
                        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p + 16, as: UInt64.self)),
                        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p + 24, as: UInt64.self)))
                p += 32
            }
            if p < count {
                let rest = count - p
                withUnsafeMutableBytes(of: &pending) { stripe in
                    stripe.baseAddress!.copyMemory(from: base + p, byteCount: rest)
                }
                pendingCount = rest
            }
        }

        /// One 32-byte stripe, as four words in host order.
        @inline(__always)
        private mutating func consume(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
            v1 = round(v1, a)
            v2 = round(v2, b)
            v3 = round(v3, c)
            v4 = round(v4, d)
        }

        /// The digest of everything added.
        func finish() -> UInt64 {
            var h: UInt64
            if total >= 32 {
                h = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
                h = merge(h, v1)
                h = merge(h, v2)
                h = merge(h, v3)
                h = merge(h, v4)
            } else {
                h = prime5
            }
            h &+= UInt64(total)
            var stripe = pending
            let count = pendingCount
            return withUnsafeBytes(of: &stripe) { tail in
                Digest.finish(h, tail: UnsafeRawBufferPointer(rebasing: tail[0 ..< count]))
            }
        }
    }
}
