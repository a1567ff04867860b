#if canImport(Glibc)
import Glibc
#endif

/// Owns the bytes of an image built in memory. Immutable once built, hence shareable.
final class ImageStorage: @unchecked Sendable {
    /// The image bytes (8-byte aligned).
    let bytes: UnsafeRawBufferPointer

    /// Takes ownership of `pointer`, which must come from `UnsafeMutableRawPointer.allocate`.
    init(taking pointer: UnsafeMutableRawPointer, count: Int) {
        bytes = UnsafeRawBufferPointer(start: pointer, count: count)
    }

    deinit {
        UnsafeMutableRawPointer(mutating: bytes.baseAddress!).deallocate()
    }
}
