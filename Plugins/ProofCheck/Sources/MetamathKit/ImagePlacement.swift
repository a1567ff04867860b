/// Where ``CompiledDatabase/compile(path:placement:)`` builds the image.
public enum ImagePlacement: Sendable {
    /// In this process's memory.
    case memory
    /// In a new file in the first of these directories with room for it, unlinked as soon as it
    /// is created, written, then mapped shared and read-only; other processes open it through
    /// `/proc/PID/fd/N` (``DatabaseImage/fileDescriptor``) while this process keeps it open.
    case unlinkedFile(directories: [String])
}
