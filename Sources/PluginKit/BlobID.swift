/// A file the master published for its workers (see ``MasterHost/publishBlob(fileDescriptor:)``).
public struct BlobID: Hashable, Sendable {
    /// The host's id of the blob (> 0).
    public let rawValue: UInt64

    /// Wraps a host blob id.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// Why a blob could not be opened in a worker: one line.
public struct BlobError: Error, Sendable, CustomStringConvertible {
    /// The reason.
    public var message: String

    /// Creates an error.
    @inlinable
    public init(message: String) { self.message = message }

    public var description: String { message }
}
