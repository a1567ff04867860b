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
    /// file goes into `reserved` first when it is given (the storage then owns its descriptor).
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
        case .unlinkedFile(let directories):
            var failures: [String] = []
            // The reserved file first, then a new file in each directory in turn.
            var candidates: [(directory: String, descriptor: Int32?)] = directories.map { ($0, nil) }
            if let reserved { candidates.insert((reserved.directory, reserved.descriptor), at: 0) }
            for candidate in candidates {
                let descriptor: Int32
                if let reservedDescriptor = candidate.descriptor {
                    descriptor = reservedDescriptor
                } else {
                    do {
                        descriptor = try ImageStorage.createUnlinkedFile(in: candidate.directory)
                    } catch {
                        failures.append(error.message)
                        continue
                    }
                }
                var failure = write(to: .file(descriptor), offsets: offsets, lengths: lengths, total: total)
                if failure == nil && ftruncate(descriptor, off_t(total)) != 0 { failure = errno }
                if let failure {
                    failures.append("\(candidate.directory): \(String(cString: strerror(failure)))")
                    close(descriptor)
                    continue
                }
                do {
                    return try ImageStorage(mapping: descriptor, count: total)
                } catch {
                    failures.append("\(candidate.directory): \(error.message)")
                    close(descriptor)
                }
            }
            throw DatabaseError(file: "", line: 0, message: "cannot write the database image (\(total) bytes): \(failures.joined(separator: "; "))")
        }
    }

    /// Writes the header, the section table and every section; returns nil, or the `errno`
    /// of a failed write. Each section's digest is taken from the parser's buffers as it is
    /// written: two threads share the work, a helper taking the two largest sections (proof
    /// text and frames).
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
        let results = SectionResults(count: Section.allCases.count)
        func layOut(_ section: Section) {
            var digest = Digest.Stream()
            let failure = write(section, to: sink, at: offsets[section.rawValue], digest: &digest)
            // Zero padding up to the next 8-byte boundary (the digest covers it).
            let length = lengths[section.rawValue]
            let padding = ((length + 7) & ~7) - length
            let zeros: UInt64 = 0
            let paddingFailure = withUnsafeBytes(of: zeros) { zero -> Int32? in
                let bytes = UnsafeRawBufferPointer(rebasing: zero[0 ..< padding])
                digest.update(bytes)
                return sink.write(bytes, at: offsets[section.rawValue] + length)
            }
            results.digests[section.rawValue] = digest.finish()
            results.failures[section.rawValue] = failure ?? paddingFailure ?? 0
        }
        let helper = HelperThread {
            layOut(.proofs)
            layOut(.frames)
        }
        for section in Section.allCases where section != .proofs && section != .frames { layOut(section) }
        let table = header.withUnsafeBytes { Digest.of(UnsafeRawBufferPointer(rebasing: $0[ImageLayout.headerSize...])) }
        helper.join()
        if let failure = results.failures.first(where: { $0 != 0 }) { return failure }
        let digest = ImageDigest.combine(table: table, sections: Array(results.digests))
        header.withUnsafeMutableBytes { $0.storeBytes(of: digest.littleEndian, toByteOffset: 24, as: UInt64.self) }
        return header.withUnsafeBytes { sink.write($0, at: 0) }
    }

    /// Each section's digest and write failure (`errno`, or 0), set by the thread that lays
    /// the section out (each thread sets its own elements; the other reads them after joining).
    private final class SectionResults: @unchecked Sendable {
        let digests: UnsafeMutableBufferPointer<UInt64>
        let failures: UnsafeMutableBufferPointer<Int32>
        init(count: Int) {
            digests = .allocate(capacity: count)
            digests.initialize(repeating: 0)
            failures = .allocate(capacity: count)
            failures.initialize(repeating: 0)
        }
        deinit {
            digests.deallocate()
            failures.deallocate()
        }
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

    /// Writes one section's bytes at `offset` and adds them to `digest`.
    private func write(_ section: ImageLayout.Section, to sink: ImageSink, at offset: Int, digest: inout Digest.Stream) -> Int32? {
        func put<T>(_ array: [T]) -> Int32? {
            array.withUnsafeBytes { bytes in
                digest.update(bytes)
                return sink.write(bytes, at: offset)
            }
        }
        func put<T>(_ buffer: GrowableBuffer<T>) -> Int32? {
            buffer.withUnsafeBufferPointer { elements in
                let bytes = UnsafeRawBufferPointer(elements)
                digest.update(bytes)
                return sink.write(bytes, at: offset)
            }
        }
        switch section {
        case .statements: return put(statements)
        case .expressions: return put(expressions)
        case .frames: return put(frames)
        case .theorems: return put(theorems)
        case .proofs: return writeProofs(to: sink, at: offset, digest: &digest)
        case .disjointNodes: return put(disjointNodes)
        case .symbols: return put(symbols)
        case .names: return put(names)
        case .nameSlots: return put(nameSlots)
        case .files: return put(files)
        case .strings: return put(strings)
        case .info: return put(info)
        }
    }

    /// Writes every proof's text, back to back, from where it lies (the mapped source files or
    /// ``proofScratch``).
    private func writeProofs(to sink: ImageSink, at offset: Int, digest: inout Digest.Stream) -> Int32? {
        proofScratch.withUnsafeBufferPointer { scratch in
            let pieces = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: proofPieces.count)
            defer { pieces.deallocate() }
            for i in 0 ..< proofPieces.count {
                let piece = proofPieces[i]
                let source = piece.source ?? scratch.baseAddress! + piece.scratchOffset
                pieces[i] = UnsafeRawBufferPointer(start: source, count: piece.count)
                digest.update(pieces[i])
            }
            return sink.write(pieces: UnsafeBufferPointer(pieces), at: offset)
        }
    }
}
