#if canImport(Glibc)
import Glibc
#endif

/// The sections of an image as the parser produced them, before they are laid out.
struct ImageSections {
    var statements = GrowableBuffer<Int32>()
    var expressions = GrowableBuffer<Int32>()
    var frames = GrowableBuffer<Int32>()
    var theorems = GrowableBuffer<Int32>()
    /// The proofs section is not assembled during the parse: each proof's text is found where
    /// it lies (the mapped source file, or ``proofScratch`` for a proof read token by token)
    /// and copied once, into the finished image.
    var proofPieces = GrowableBuffer<ProofPiece>()
    var proofScratch = GrowableBuffer<UInt8>()
    /// The proofs section's length so far.
    var proofByteCount = 0
    var disjointNodes = GrowableBuffer<Int32>()
    var symbols: [Int32] = []
    var names: [Int32] = []
    var nameSlots = GrowableBuffer<UInt64>()
    var files: [Int32] = []
    var strings = GrowableBuffer<UInt8>()
    var info: [Int32] = Array(repeating: 0, count: ImageLayout.InfoField.count)

    /// Where one proof's text is: `count` bytes at `source` (in a mapped source file, which
    /// must stay mapped until ``build(placement:)``), or at `scratchOffset` in ``proofScratch``
    /// when `source` is nil.
    struct ProofPiece {
        var source: UnsafePointer<UInt8>?
        var scratchOffset: Int
        var count: Int
    }

    /// Appends a proof's text that lies in a mapped source file.
    mutating func addProof(at source: UnsafePointer<UInt8>, count: Int) {
        proofPieces.append(ProofPiece(source: source, scratchOffset: 0, count: count))
        proofByteCount += count
    }

    /// Appends the proof whose text was written to ``proofScratch`` from `scratchOffset` on.
    mutating func addScratchProof(from scratchOffset: Int) {
        let count = proofScratch.count - scratchOffset
        proofPieces.append(ProofPiece(source: nil, scratchOffset: scratchOffset, count: count))
        proofByteCount += count
    }

    /// Lays the sections out behind a header, in memory or a file (see ``ImagePlacement``; a
    /// file goes into `reserved` when it is given).
    func build(placement: ImagePlacement, reserved: ImageFileSpace? = nil) throws(DatabaseError) -> ImageStorage {
        typealias Section = ImageLayout.Section
        var lengths = Array(repeating: 0, count: Section.allCases.count)
        for section in Section.allCases {
            lengths[section.rawValue] = byteCount(of: section)
        }
        var offsets = Array(repeating: 0, count: lengths.count)
        var total = ImageLayout.dataOffset
        for i in 0 ..< lengths.count {
            offsets[i] = total
            total += (lengths[i] + 7) & ~7
        }
        let storage: ImageStorage
        switch placement {
        case .memory: storage = ImageStorage(allocating: total)
        case .unlinkedFile(let directories): storage = try ImageStorage(space: reserved, count: total, in: directories)
        }
        let memory = storage.mutableBase
        memset(memory, 0, ImageLayout.dataOffset)
        for section in Section.allCases {
            let entry = ImageLayout.sectionTableOffset + section.rawValue * ImageLayout.sectionTableEntrySize
            memory.storeBytes(of: UInt64(offsets[section.rawValue]).littleEndian, toByteOffset: entry, as: UInt64.self)
            memory.storeBytes(of: UInt64(lengths[section.rawValue]).littleEndian, toByteOffset: entry + 8, as: UInt64.self)
        }
        memory.storeBytes(of: ImageLayout.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
        memory.storeBytes(of: ImageLayout.formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
        memory.storeBytes(of: UInt32(Section.allCases.count).littleEndian, toByteOffset: 12, as: UInt32.self)
        memory.storeBytes(of: UInt64(total).littleEndian, toByteOffset: 16, as: UInt64.self)
        // Two threads lay the sections out and hash them: a helper takes the two largest
        // (proof text and frames), this thread the others.
        let bytes = storage.bytes
        let digests = SectionDigests(count: Section.allCases.count)
        func layOut(_ section: Section) {
            let offset = offsets[section.rawValue], length = lengths[section.rawValue]
            copy(section, to: memory + offset)
            // Zero the padding up to the next 8-byte boundary (the digest covers it).
            memset(memory + offset + length, 0, ((length + 7) & ~7) - length)
            digests.values[section.rawValue] = ImageDigest.of(ImageDigest.range(ofSection: section.rawValue, in: bytes), in: bytes)
        }
        let helper = HelperThread {
            layOut(.proofs)
            layOut(.frames)
        }
        for section in Section.allCases where section != .proofs && section != .frames { layOut(section) }
        let table = ImageDigest.of(ImageLayout.headerSize ..< ImageLayout.dataOffset, in: bytes)
        helper.join()
        let digest = ImageDigest.combine(table: table, sections: Array(digests.values))
        memory.storeBytes(of: digest.littleEndian, toByteOffset: 24, as: UInt64.self)
        return storage
    }

    /// Each section's digest, written by the thread that lays the section out (each thread
    /// writes its own elements; the other reads them after joining).
    private final class SectionDigests: @unchecked Sendable {
        let values: UnsafeMutableBufferPointer<UInt64>
        init(count: Int) { values = .allocate(capacity: count); values.initialize(repeating: 0) }
        deinit { values.deallocate() }
    }

    private func byteCount(of section: ImageLayout.Section) -> Int {
        switch section {
        case .statements: return statements.count * 4
        case .expressions: return expressions.count * 4
        case .frames: return frames.count * 4
        case .theorems: return theorems.count * 4
        case .proofs: return proofByteCount
        case .disjointNodes: return disjointNodes.count * 4
        case .symbols: return symbols.count * 4
        case .names: return names.count * 4
        case .nameSlots: return nameSlots.count * 8
        case .files: return files.count * 4
        case .strings: return strings.count
        case .info: return info.count * 4
        }
    }

    private func copy(_ section: ImageLayout.Section, to destination: UnsafeMutableRawPointer) {
        func put<T>(_ array: [T]) {
            array.withUnsafeBytes { source in
                if let base = source.baseAddress { destination.copyMemory(from: base, byteCount: source.count) }
            }
        }
        func put<T>(_ buffer: GrowableBuffer<T>) {
            buffer.withUnsafeBufferPointer { source in
                if let base = source.baseAddress {
                    destination.copyMemory(from: base, byteCount: source.count * MemoryLayout<T>.stride)
                }
            }
        }
        switch section {
        case .statements: put(statements)
        case .expressions: put(expressions)
        case .frames: put(frames)
        case .theorems: put(theorems)
        case .proofs: copyProofs(to: destination.assumingMemoryBound(to: UInt8.self))
        case .disjointNodes: put(disjointNodes)
        case .symbols: put(symbols)
        case .names: put(names)
        case .nameSlots: put(nameSlots)
        case .files: put(files)
        case .strings: put(strings)
        case .info: put(info)
        }
    }

    /// Writes every proof's text, back to back.
    private func copyProofs(to destination: UnsafeMutablePointer<UInt8>) {
        proofScratch.withUnsafeBufferPointer { scratch in
            var offset = 0
            for i in 0 ..< proofPieces.count {
                let piece = proofPieces[i]
                let source = piece.source ?? scratch.baseAddress! + piece.scratchOffset
                (destination + offset).update(from: source, count: piece.count)
                offset += piece.count
            }
        }
    }
}
