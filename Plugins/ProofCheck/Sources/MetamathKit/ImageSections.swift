import SystemPackage

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

    /// Lays the sections out behind a header, in memory or a file (see ``ImagePlacement``); a
    /// file goes into `reserved` first when it is given, then into a new file in each of the
    /// placement's locations in turn. `reserved`'s descriptor is this call's in every case:
    /// the storage owns it, or it is closed (memory placement, or the file failed).
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
        switch placement {
        case .memory:
            if let reserved { close(reserved.descriptor) }
            let storage = ImageStorage(allocating: total)
            _ = write(to: .memory(storage.mutableBase), offsets: offsets, lengths: lengths, total: total)
            return storage
        case .unlinkedFile, .sealedMemoryFile:
            var failures: [String] = []
            // The reserved file first, then a new file at each location in turn.
            var candidates: [(location: ImageFileLocation, descriptor: Int32?)] = placement.fileLocations.map { ($0, nil) }
            if let reserved { candidates.insert((reserved.location, reserved.descriptor), at: 0) }
            for candidate in candidates {
                let descriptor: Int32
                if let reservedDescriptor = candidate.descriptor {
                    descriptor = reservedDescriptor
                } else {
                    do {
                        descriptor = try candidate.location.createFile()
                    } catch {
                        failures.append(error.message)
                        continue
                    }
                }
                var failure = write(to: .file(descriptor), offsets: offsets, lengths: lengths, total: total)
                if failure == nil && ftruncate(descriptor, off_t(total)) != 0 { failure = errno }
                if let failure {
                    failures.append("\(candidate.location.name): \(Errno(rawValue: failure))")
                    close(descriptor)
                    continue
                }
                // A memory file is sealed and mapped. An unlinked file cannot be sealed: this
                // process keeps a copy in memory and other processes read it, as a mapping of it
                // would fault if its owner truncated it.
                if candidate.location == .memoryFile && !ImageStorage.seal(descriptor) {
                    failures.append("\(candidate.location.name): cannot seal it: \(Errno(rawValue: errno))")
                    close(descriptor)
                    continue
                }
                do {
                    return candidate.location == .memoryFile ? try ImageStorage(mapping: descriptor, count: total)
                        : try ImageStorage(readingBack: descriptor, count: total)
                } catch {
                    failures.append("\(candidate.location.name): \(error.message)")
                    close(descriptor)
                }
            }
            throw DatabaseError(file: "", line: 0, message: "cannot write the database image (\(total) bytes): \(failures.joined(separator: "; "))")
        }
    }

    /// Writes the header, the section table and every section; returns nil, or the `errno`
    /// of a failed write. This thread writes, a helper digests the parser's buffers meanwhile:
    /// two threads writing one file only take turns on its lock (measured: a third of the
    /// writer's time spinning on it).
    private func write(to sink: ImageSink, offsets: [Int], lengths: [Int], total: Int) -> Int32? {
        typealias Section = ImageLayout.Section
        var header = [UInt8](repeating: 0, count: ImageLayout.dataOffset)
        header.withUnsafeMutableBytes { memory in
            for section in Section.allCases {
                let entry = ImageLayout.sectionTableOffset + section.rawValue * ImageLayout.sectionTableEntrySize
                memory.storeBytes(of: UInt64(offsets[section.rawValue]).littleEndian, toByteOffset: entry, as: UInt64.self)
                memory.storeBytes(of: UInt64(lengths[section.rawValue]).littleEndian, toByteOffset: entry + 8, as: UInt64.self)
            }
            memory.storeBytes(of: ImageLayout.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            memory.storeBytes(of: ImageLayout.formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            memory.storeBytes(of: UInt32(Section.allCases.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            memory.storeBytes(of: UInt64(total).littleEndian, toByteOffset: 16, as: UInt64.self)
        }
        let digests = SectionDigests(count: Section.allCases.count)
        let helper = HelperThread {
            for section in Section.allCases {
                var digest = Digest.Stream()
                forEachPiece(of: section) { digest.update($0) }
                ImageSections.withPadding(after: lengths[section.rawValue]) { digest.update($0) }
                digests.values[section.rawValue] = digest.finish()
            }
        }
        var failure: Int32?
        for section in Section.allCases where failure == nil {
            var writer = SectionWriter(sink: sink, offset: offsets[section.rawValue])
            forEachPiece(of: section) { writer.append($0) }
            ImageSections.withPadding(after: lengths[section.rawValue]) { writer.append($0) }
            failure = writer.finish()
        }
        helper.join()
        if let failure { return failure }
        let table = header.withUnsafeBytes { Digest.of(UnsafeRawBufferPointer(rebasing: $0[ImageLayout.headerSize...])) }
        let digest = ImageDigest.combine(table: table, sections: Array(digests.values))
        header.withUnsafeMutableBytes { $0.storeBytes(of: digest.littleEndian, toByteOffset: 24, as: UInt64.self) }
        return header.withUnsafeBytes { sink.write($0, at: 0) }
    }

    /// The zero bytes that pad a section of `length` bytes to the next 8-byte boundary.
    private static func withPadding(after length: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        let padding = ((length + 7) & ~7) - length
        guard padding > 0 else { return }
        let zeros: UInt64 = 0
        withUnsafeBytes(of: zeros) { body(UnsafeRawBufferPointer(rebasing: $0[0 ..< padding])) }
    }

    /// Each section's digest, written by the helper thread and read after joining it.
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

    /// Calls `body` with a section's bytes in order: one piece for an array, one per proof for
    /// the proofs (from where each lies: the mapped source files or ``proofScratch``).
    private func forEachPiece(of section: ImageLayout.Section, _ body: (UnsafeRawBufferPointer) -> Void) {
        func pass<T>(_ array: [T]) { array.withUnsafeBytes { body($0) } }
        func pass<T>(_ buffer: GrowableBuffer<T>) { buffer.withUnsafeBufferPointer { body(UnsafeRawBufferPointer($0)) } }
        switch section {
        case .statements: pass(statements)
        case .expressions: pass(expressions)
        case .frames: pass(frames)
        case .theorems: pass(theorems)
        case .proofs:
            proofScratch.withUnsafeBufferPointer { scratch in
                for i in 0 ..< proofPieces.count {
                    let piece = proofPieces[i]
                    body(UnsafeRawBufferPointer(start: piece.source ?? scratch.baseAddress! + piece.scratchOffset, count: piece.count))
                }
            }
        case .disjointNodes: pass(disjointNodes)
        case .symbols: pass(symbols)
        case .names: pass(names)
        case .nameSlots: pass(nameSlots)
        case .files: pass(files)
        case .strings: pass(strings)
        case .info: pass(info)
        }
    }
}

/// Writes one section's pieces back to back: for a file, small ones gathered in a staging
/// buffer that stays in the cache (a write per 256 KB rather than per proof: the ×10 database
/// has 85,730 proofs of about 200 bytes), large ones directly; to memory, each directly (a
/// copy is all a write is there).
private struct SectionWriter {
    static let stagingSize = 256 << 10
    let sink: ImageSink
    /// Whether every piece goes straight to the sink.
    private let direct: Bool
    private var position: Int
    private var staging: UnsafeMutableRawPointer?
    private var staged = 0
    private var failure: Int32?

    init(sink: ImageSink, offset: Int) {
        self.sink = sink
        if case .memory = sink { direct = true } else { direct = false }
        position = offset
    }

    mutating func append(_ piece: UnsafeRawBufferPointer) {
        guard failure == nil, let base = piece.baseAddress, piece.count > 0 else { return }
        if direct || piece.count >= SectionWriter.stagingSize / 4 {
            flush()
            failure = failure ?? sink.write(piece, at: position)
            position += piece.count
            return
        }
        if staged + piece.count > SectionWriter.stagingSize { flush() }
        let buffer = staging ?? UnsafeMutableRawPointer.allocate(byteCount: SectionWriter.stagingSize, alignment: 64)
        staging = buffer
        (buffer + staged).copyMemory(from: base, byteCount: piece.count)
        staged += piece.count
    }

    private mutating func flush() {
        guard staged > 0, let staging else { return }
        if failure == nil { failure = sink.write(UnsafeRawBufferPointer(start: staging, count: staged), at: position) }
        position += staged
        staged = 0
    }

    /// Writes what is staged; returns nil, or the `errno` of the first failed write.
    mutating func finish() -> Int32? {
        flush()
        staging?.deallocate()
        staging = nil
        return failure
    }
}
