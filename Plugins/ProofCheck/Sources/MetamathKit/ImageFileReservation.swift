#if canImport(Glibc)
import Glibc
#endif

/// A new image file (at `location`) with `size` bytes allocated.
struct ImageFileSpace {
    let descriptor: Int32
    let size: Int
    let location: ImageFileLocation
}

/// Space for an image in an unlinked file, allocated on a helper thread while the database is
/// parsed: the file system zeroes every page it allocates (about 14 ms for 64 MB in `/dev/shm`
/// on these machines), which the master otherwise spends after the parse; writing into
/// allocated pages then costs half as much (13 against 25 ms for 64 MB). The size is an
/// estimate: the image is written at whatever size it has and the file cut to it.
final class ImageFileReservation {
    private let thread: HelperThread
    private let space = HandOver<ImageFileSpace>()
    private var taken = false

    init(size: Int, locations: [ImageFileLocation]) {
        let space = self.space
        thread = HelperThread { space.value = ImageFileReservation.allocate(size, in: locations) }
    }

    /// A new file with `size` bytes allocated, at the first of `locations` with room for it;
    /// nil if none has (the image is then written without a reservation).
    static func allocate(_ size: Int, in locations: [ImageFileLocation]) -> ImageFileSpace? {
        for location in locations {
            guard let descriptor = try? location.createFile() else { continue }
            if posix_fallocate(descriptor, 0, off_t(size)) == 0 {
                return ImageFileSpace(descriptor: descriptor, size: size, location: location)
            }
            close(descriptor)
        }
        return nil
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
