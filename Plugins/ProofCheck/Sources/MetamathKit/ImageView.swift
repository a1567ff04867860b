/// Read-only typed access to the sections of an image whose header has been checked.
///
/// The view does not own the bytes: its owner (``ImageStorage`` or ``MappedImage``) must
/// outlive it.
struct ImageView {
    let statements: UnsafePointer<Int32>
    let statementCount: Int
    let expressions: UnsafePointer<Int32>
    let frames: UnsafePointer<Int32>
    let theorems: UnsafePointer<Int32>
    let theoremCount: Int
    let proofs: UnsafePointer<UInt8>
    let disjointNodes: UnsafePointer<Int32>
    let symbols: UnsafePointer<Int32>
    let symbolCount: Int
    let names: UnsafePointer<Int32>
    let nameCount: Int
    let nameSlots: UnsafePointer<UInt64>
    /// `slot count - 1` (the slot count is a power of two).
    let nameMask: Int
    let files: UnsafePointer<Int32>
    let fileCount: Int
    let strings: UnsafePointer<UInt8>
    let digest: UInt64

    /// Problems found in a header: what is wrong, for a ``DatabaseError``.
    struct Invalid: Error {
        var message: String
    }

    /// Checks the header and section table of `bytes` (not the digest) and maps the sections.
    init(bytes: UnsafeRawBufferPointer) throws(Invalid) {
        guard let base = bytes.baseAddress, bytes.count >= ImageLayout.dataOffset else {
            throw Invalid(message: "the image is truncated (\(bytes.count) bytes)")
        }
        guard UInt64(littleEndian: base.load(fromByteOffset: 0, as: UInt64.self)) == ImageLayout.magic else {
            throw Invalid(message: "not a database image (bad magic number)")
        }
        let version = UInt32(littleEndian: base.load(fromByteOffset: 8, as: UInt32.self))
        guard version == ImageLayout.formatVersion else {
            throw Invalid(message: "image format version \(version), expected \(ImageLayout.formatVersion)")
        }
        let sectionCount = Int(UInt32(littleEndian: base.load(fromByteOffset: 12, as: UInt32.self)))
        guard sectionCount == ImageLayout.Section.allCases.count else {
            throw Invalid(message: "the image has \(sectionCount) sections, expected \(ImageLayout.Section.allCases.count)")
        }
        let declared = UInt64(littleEndian: base.load(fromByteOffset: 16, as: UInt64.self))
        guard declared == UInt64(bytes.count) else {
            throw Invalid(message: "the image is \(bytes.count) bytes but its header says \(declared) (truncated or damaged)")
        }
        digest = UInt64(littleEndian: base.load(fromByteOffset: 24, as: UInt64.self))

        var ranges: [(offset: Int, length: Int)] = []
        for section in ImageLayout.Section.allCases {
            let entry = ImageLayout.sectionTableOffset + section.rawValue * ImageLayout.sectionTableEntrySize
            let offset = UInt64(littleEndian: base.load(fromByteOffset: entry, as: UInt64.self))
            let length = UInt64(littleEndian: base.load(fromByteOffset: entry + 8, as: UInt64.self))
            guard offset >= UInt64(ImageLayout.dataOffset), offset % 8 == 0, offset <= declared,
                  length <= declared - offset else {
                throw Invalid(message: "section \(section) lies outside the image")
            }
            ranges.append((Int(offset), Int(length)))
        }
        func int32s(_ section: ImageLayout.Section, stride: Int = 1) throws(Invalid) -> (UnsafePointer<Int32>, Int) {
            let range = ranges[section.rawValue]
            guard range.length % (4 * stride) == 0 else {
                throw Invalid(message: "section \(section) has a partial record")
            }
            return ((base + range.offset).assumingMemoryBound(to: Int32.self), range.length / (4 * stride))
        }
        func bytesOf(_ section: ImageLayout.Section) -> UnsafePointer<UInt8> {
            (base + ranges[section.rawValue].offset).assumingMemoryBound(to: UInt8.self)
        }
        (statements, statementCount) = try int32s(.statements, stride: ImageLayout.StatementRecord.stride)
        (expressions, _) = try int32s(.expressions)
        (frames, _) = try int32s(.frames)
        (theorems, theoremCount) = try int32s(.theorems, stride: ImageLayout.TheoremRecord.stride)
        proofs = bytesOf(.proofs)
        (disjointNodes, _) = try int32s(.disjointNodes, stride: 3)
        (symbols, symbolCount) = try int32s(.symbols, stride: ImageLayout.SymbolRecord.stride)
        (names, nameCount) = try int32s(.names, stride: ImageLayout.NameRecord.stride)
        let slotRange = ranges[ImageLayout.Section.nameSlots.rawValue]
        let slotCount = slotRange.length / 8
        guard slotRange.length % 8 == 0, slotCount > 0, slotCount & (slotCount - 1) == 0, slotCount > nameCount else {
            throw Invalid(message: "the name table is malformed")
        }
        nameSlots = (base + slotRange.offset).assumingMemoryBound(to: UInt64.self)
        nameMask = slotCount - 1
        (files, fileCount) = try int32s(.files, stride: ImageLayout.FileRecord.stride)
        strings = bytesOf(.strings)
        let (_, infoCount) = try int32s(.info)
        guard infoCount >= ImageLayout.InfoField.count else { throw Invalid(message: "the info section is truncated") }
    }

    // MARK: Records

    /// Field `field` of statement `index`.
    @inline(__always)
    func statement(_ index: Int, _ field: Int) -> Int32 {
        statements[index &* ImageLayout.StatementRecord.stride &+ field]
    }

    /// Field `field` of theorem record `index`.
    @inline(__always)
    func theorem(_ index: Int, _ field: Int) -> Int32 {
        theorems[index &* ImageLayout.TheoremRecord.stride &+ field]
    }

    // MARK: Names

    /// The statement labelled `start[0..<count]`, or -1 when no statement has that label.
    @inline(__always)
    func statement(labeled start: UnsafePointer<UInt8>, count: Int) -> Int32 {
        let hash = NameTable.hash(start, count)
        let tag = UInt64(hash) << 32
        var slot = Int(hash) & nameMask
        while true {
            let value = nameSlots[slot]
            if value == 0 { return -1 }
            if value & 0xFFFF_FFFF_0000_0000 == tag {
                let record = (Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1) &* ImageLayout.NameRecord.stride
                if Int(names[record + ImageLayout.NameRecord.nameLength]) == count
                    && NameTable.equal(strings + Int(names[record + ImageLayout.NameRecord.nameOffset]), start, count) {
                    return names[record + ImageLayout.NameRecord.statement]
                }
            }
            slot = (slot &+ 1) & nameMask
        }
    }

    // MARK: Text (for messages)

    /// The bytes `strings[offset..<offset+length]` as a String.
    func string(offset: Int32, length: Int32) -> String {
        String(decoding: UnsafeBufferPointer(start: strings + Int(offset), count: Int(length)), as: UTF8.self)
    }

    /// The label of statement `index`.
    func label(ofStatement index: Int) -> String {
        string(offset: statement(index, ImageLayout.StatementRecord.nameOffset),
               length: statement(index, ImageLayout.StatementRecord.nameLength))
    }

    /// The 1-based line of statement `index`'s label.
    func line(ofStatement index: Int) -> Int {
        Int(statement(index, ImageLayout.StatementRecord.line))
    }

    /// The name of the file statement `index` was read from.
    func fileName(ofStatement index: Int) -> String {
        fileName(Int(statement(index, ImageLayout.StatementRecord.file)))
    }

    /// The name of symbol `id`.
    func symbolName(_ id: Int32) -> String {
        let record = Int(id) * ImageLayout.SymbolRecord.stride
        return string(offset: symbols[record + ImageLayout.SymbolRecord.nameOffset],
                      length: symbols[record + ImageLayout.SymbolRecord.nameLength])
    }

    /// The name of file `index`.
    func fileName(_ index: Int) -> String {
        let record = index * ImageLayout.FileRecord.stride
        return string(offset: files[record + ImageLayout.FileRecord.nameOffset],
                      length: files[record + ImageLayout.FileRecord.nameLength])
    }

    /// The label of statement `index` as messages quote it (cut by ``Echo``).
    func shownLabel(ofStatement index: Int) -> String { Echo.text(label(ofStatement: index)) }

    /// The name of symbol `id` as messages quote it (cut by ``Echo``).
    func shownSymbol(_ id: Int32) -> String { Echo.text(symbolName(id)) }

    /// The most bytes of an expression that ``render(_:count:)`` writes before it stops.
    static let renderLimit = 1 << 16

    /// Symbols joined by spaces, e.g. "|- ( ph -> ps )", for messages: once the text reaches
    /// ``renderLimit`` bytes the rest is left out and the length given ("… (N symbols)").
    func render(_ symbolsOfExpression: UnsafePointer<Int32>, count: Int) -> String {
        var text = ""
        for i in 0 ..< count {
            if text.utf8.count >= ImageView.renderLimit {
                text += " … (\(count) symbols)"
                break
            }
            if i > 0 { text += " " }
            text += shownSymbol(symbolsOfExpression[i])
        }
        return text
    }

    /// The math string of statement `index`.
    func render(statement index: Int) -> String {
        render(expressions + Int(statement(index, ImageLayout.StatementRecord.expressionStart)),
               count: Int(statement(index, ImageLayout.StatementRecord.expressionCount)))
    }
}
