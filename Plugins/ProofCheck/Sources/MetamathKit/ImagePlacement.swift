/// Where ``CompiledDatabase/compile(path:placement:)`` builds the image.
public enum ImagePlacement: Sendable {
    /// In this process's memory.
    case memory
    /// In a new file in the first of these directories with room for it, unlinked as soon as it
    /// is created, written, then mapped shared and read-only; other processes open it through
    /// `/proc/PID/fd/N` (``DatabaseImage/fileDescriptor``) while this process keeps it open.
    /// Such a file can still be truncated by its owner (through that path): ``MappedImage``
    /// therefore reads it rather than maps it.
    case unlinkedFile(directories: [String])
    /// In a memory file (`memfd_create`), sealed once written so that nobody can truncate, grow
    /// or write it, this process included: other processes open it through `/proc/PID/fd/N`
    /// and ``MappedImage`` maps it (a mapping of it cannot fault). Where the system cannot make
    /// one, or has no memory for it, as ``unlinkedFile(directories:)`` with `fallback`.
    case sealedMemoryFile(fallback: [String])

    /// Where to try to create the image file, in order (empty for ``memory``).
    var fileLocations: [ImageFileLocation] {
        switch self {
        case .memory: return []
        case .unlinkedFile(let directories): return directories.map { .directory($0) }
        case .sealedMemoryFile(let fallback): return [.memoryFile] + fallback.map { .directory($0) }
        }
    }
}

/// Where an image file is created.
enum ImageFileLocation: Equatable {
    /// A sealable memory file.
    case memoryFile
    /// A file in this directory, unlinked at once.
    case directory(String)

    /// For messages: the directory, or "memory file".
    var name: String {
        switch self {
        case .memoryFile: return "memory file"
        case .directory(let path): return path
        }
    }

    /// A new, empty file here, closed on exec; the caller owns the descriptor.
    func createFile() throws(DatabaseError) -> Int32 {
        switch self {
        case .memoryFile: return try ImageStorage.createMemoryFile()
        case .directory(let path): return try ImageStorage.createUnlinkedFile(in: path)
        }
    }
}
