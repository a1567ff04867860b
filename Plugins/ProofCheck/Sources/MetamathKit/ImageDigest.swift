/// The digest in an image's header: ``Digest`` of the section table and of each section (its
/// padding included), then ``Digest`` of those digests in order. Sections can therefore be
/// hashed by different threads while they are laid out; every byte after the header counts.
enum ImageDigest {
    /// Where section `index` lies, padding included, per the table of `bytes` (clamped to
    /// the image).
    static func range(ofSection index: Int, in bytes: UnsafeRawBufferPointer) -> Range<Int> {
        let entry = ImageLayout.sectionTableOffset + index * ImageLayout.sectionTableEntrySize
        let offset = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: entry, as: UInt64.self)))
        let length = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: entry + 8, as: UInt64.self)))
        let start = min(offset, bytes.count)
        return start ..< min(start + ((length + 7) & ~7), bytes.count)
    }

    /// The digest of a part of the image.
    static func of(_ range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> UInt64 {
        Digest.of(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    /// The image digest from the table's digest and each section's, in section order.
    static func combine(table: UInt64, sections: [UInt64]) -> UInt64 {
        ([table] + sections).map(\.littleEndian).withUnsafeBytes { Digest.of($0) }
    }

    /// The digest of a whole image whose header and table have been checked (see ``ImageView``).
    static func of(image bytes: UnsafeRawBufferPointer) -> UInt64 {
        let table = of(ImageLayout.headerSize ..< ImageLayout.dataOffset, in: bytes)
        let sections = ImageLayout.Section.allCases.map { of(range(ofSection: $0.rawValue, in: bytes), in: bytes) }
        return combine(table: table, sections: sections)
    }

    /// As ``of(image:)``, with the sections hashed on two threads (this one and a helper), split
    /// where their sizes balance.
    static func ofInParallel(image bytes: UnsafeRawBufferPointer) -> UInt64 {
        let sections = ImageLayout.Section.allCases.map { range(ofSection: $0.rawValue, in: bytes) }
        let total = sections.reduce(0) { $0 + $1.count }
        var split = 0, before = 0
        while split < sections.count && before + sections[split].count / 2 < total / 2 {
            before += sections[split].count
            split += 1
        }
        let firstDigests = HandOver<[UInt64]>()
        let helper = HelperThread { firstDigests.value = sections[..<split].map { of($0, in: bytes) } }
        let rest = sections[split...].map { of($0, in: bytes) }
        let table = of(ImageLayout.headerSize ..< ImageLayout.dataOffset, in: bytes)
        helper.join()
        return combine(table: table, sections: (firstDigests.value ?? []) + rest)
    }
}
