import CSupport

/// CRC-32C (Castagnoli), the checksum of each journal record: a torn or damaged record fails it.
/// Computed in C (`csupport_crc32c`) with the processor's CRC32 instruction where it has one.
enum CRC32C {
    /// The checksum of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        csupport_crc32c(bytes.baseAddress, bytes.count)
    }
}
