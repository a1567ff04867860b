#if canImport(Glibc)
import Glibc
#endif

/// An unlinked file with `size` bytes allocated (see ``ImageStorage/allocateFile(_:in:)``).
struct ImageFileSpace {
    let descriptor: Int32
    let size: Int
}

/// Space for an image in an unlinked file, allocated on a helper thread while the database is
/// parsed: the file system zeroes every page it allocates, about 15 ms for the ×10 database's
/// 65 MB, which the master otherwise spends after the parse. The size is an estimate; the
/// image is fitted to it when it is laid out (``ImageStorage/init(space:count:in:)``).
final class ImageFileReservation {
    private let thread: HelperThread
    private let space = HandOver<ImageFileSpace>()
    private var taken = false

    init(size: Int, directories: [String]) {
        let space = self.space
        thread = HelperThread { space.value = ImageStorage.allocateFile(size, in: directories).0 }
    }

    /// The space, once allocated (nil if no directory had room); the caller owns its descriptor.
    func take() -> ImageFileSpace? {
        thread.join()
        taken = true
        return space.value
    }

    deinit {
        guard !taken else { return }
        thread.join()
        if let space = space.value { close(space.descriptor) }
    }
}
