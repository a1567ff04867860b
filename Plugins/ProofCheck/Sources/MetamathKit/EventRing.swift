#if canImport(Glibc)
import Glibc
#endif

/// A single-producer, single-consumer queue of `Int32` words between two threads: the parser
/// writes what the frame builder needs to know, in order, and the builder reads it.
///
/// Each side keeps its position and the last position it saw of the other side in its own
/// struct (``Writer``, ``Reader``) and only takes the lock to exchange them, every
/// ``exchangeInterval`` words or when it must wait (the queue full or empty). Events of any
/// length fit: words are put and taken one at a time.
final class EventRing: @unchecked Sendable {
    static let capacity = 1 << 20
    static let exchangeInterval = 4096
    private let mask = EventRing.capacity - 1
    fileprivate let words: UnsafeMutablePointer<Int32>
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>
    /// Words written and published by the writer / taken by the reader (under the lock).
    private var published = 0
    private var taken = 0

    init() {
        words = .allocate(capacity: EventRing.capacity)
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        changed = .allocate(capacity: 1)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        changed.deallocate()
        lock.deallocate()
        words.deallocate()
    }

    /// Publishes `written`; returns the reader's position, waiting until it is above
    /// `minimumTaken` (0: no wait).
    fileprivate func exchange(written: Int, minimumTaken: Int) -> Int {
        pthread_mutex_lock(lock)
        if written != published {
            published = written
            pthread_cond_broadcast(changed)
        }
        while taken < minimumTaken { pthread_cond_wait(changed, lock) }
        let result = taken
        pthread_mutex_unlock(lock)
        return result
    }

    /// Records `taken`; returns the writer's published position, waiting until it is above
    /// `minimumPublished` (0: no wait).
    fileprivate func exchange(taken newTaken: Int, minimumPublished: Int) -> Int {
        pthread_mutex_lock(lock)
        if newTaken != taken {
            taken = newTaken
            pthread_cond_broadcast(changed)
        }
        while published < minimumPublished { pthread_cond_wait(changed, lock) }
        let result = published
        pthread_mutex_unlock(lock)
        return result
    }

    /// The producer's side.
    struct Writer {
        let ring: EventRing
        private var written = 0
        private var lastPublished = 0
        private var knownTaken = 0

        init(ring: EventRing) { self.ring = ring }

        @inline(__always)
        mutating func put(_ word: Int32) {
            if written - knownTaken == EventRing.capacity {
                knownTaken = ring.exchange(written: written, minimumTaken: written - EventRing.capacity + 1)
                lastPublished = written
            }
            ring.words[written & ring.mask] = word
            written += 1
            if written - lastPublished >= EventRing.exchangeInterval { publish() }
        }

        /// Puts three words (an event's first words): one check for room when they fit before
        /// the ring wraps, else one at a time.
        @inline(__always)
        mutating func put(_ a: Int32, _ b: Int32, _ c: Int32) {
            let offset = written & ring.mask
            guard EventRing.capacity - (written - knownTaken) >= 3 && offset <= EventRing.capacity - 3 else {
                put(a)
                put(b)
                put(c)
                return
            }
            let slots = ring.words + offset
            slots[0] = a
            slots[1] = b
            slots[2] = c
            written += 3
            if written - lastPublished >= EventRing.exchangeInterval { publish() }
        }

        /// Puts `count` words from `source`, in chunks of at most what the ring holds free.
        mutating func put(_ source: UnsafePointer<Int32>, count: Int) {
            var done = 0
            while done < count {
                var free = EventRing.capacity - (written - knownTaken)
                if free == 0 {
                    knownTaken = ring.exchange(written: written, minimumTaken: written - EventRing.capacity + 1)
                    lastPublished = written
                    free = EventRing.capacity - (written - knownTaken)
                }
                let offset = written & ring.mask
                let chunk = min(count - done, free, EventRing.capacity - offset)
                (ring.words + offset).update(from: source + done, count: chunk)
                written += chunk
                done += chunk
            }
            if written - lastPublished >= EventRing.exchangeInterval { publish() }
        }

        /// Makes every word put so far visible to the reader.
        mutating func publish() {
            knownTaken = ring.exchange(written: written, minimumTaken: 0)
            lastPublished = written
        }
    }

    /// The consumer's side.
    struct Reader {
        let ring: EventRing
        private var taken = 0
        private var lastReported = 0
        private var knownPublished = 0

        init(ring: EventRing) { self.ring = ring }

        @inline(__always)
        mutating func take() -> Int32 {
            if taken == knownPublished {
                knownPublished = ring.exchange(taken: taken, minimumPublished: taken + 1)
                lastReported = taken
            }
            let word = ring.words[taken & ring.mask]
            taken += 1
            if taken - lastReported >= EventRing.exchangeInterval {
                knownPublished = ring.exchange(taken: taken, minimumPublished: 0)
                lastReported = taken
            }
            return word
        }

        /// Takes two words (an event's next words): one check when both are published before
        /// the ring wraps, else one at a time.
        @inline(__always)
        mutating func take2() -> (Int32, Int32) {
            let offset = taken & ring.mask
            guard knownPublished - taken >= 2 && offset <= EventRing.capacity - 2 else {
                let a = take()
                return (a, take())
            }
            let slots = ring.words + offset
            let result = (slots[0], slots[1])
            taken += 2
            if taken - lastReported >= EventRing.exchangeInterval {
                knownPublished = ring.exchange(taken: taken, minimumPublished: 0)
                lastReported = taken
            }
            return result
        }

        /// Takes `count` words into `destination`.
        mutating func take(into destination: UnsafeMutablePointer<Int32>, count: Int) {
            var done = 0
            while done < count {
                if taken == knownPublished {
                    knownPublished = ring.exchange(taken: taken, minimumPublished: taken + 1)
                    lastReported = taken
                }
                let offset = taken & ring.mask
                let chunk = min(count - done, knownPublished - taken, EventRing.capacity - offset)
                (destination + done).update(from: ring.words + offset, count: chunk)
                taken += chunk
                done += chunk
            }
            if taken - lastReported >= EventRing.exchangeInterval {
                knownPublished = ring.exchange(taken: taken, minimumPublished: 0)
                lastReported = taken
            }
        }
    }
}
