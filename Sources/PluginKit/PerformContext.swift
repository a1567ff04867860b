/// The host's services to a worker while it performs one request.
///
/// Handed to ``TaskWorker/perform(_:context:)`` as a borrowed, non-copyable value: it is valid
/// only during that call and cannot be kept.
public struct PerformContext<Feedback: BinaryEncodable>: ~Copyable {
    @usableFromInline
    let channel: PerformChannel

    @inlinable
    init(channel: PerformChannel) {
        self.channel = channel
    }

    /// Streams one feedback message to the master, ahead of the response.
    ///
    /// The master receives the messages in order, in ``TaskKind/feedback(_:from:)``.
    @inlinable
    public func feedback(_ message: Feedback) {
        var writer = BinaryWriter()
        message.encode(to: &writer)
        channel.feedback(writer)
    }

    /// True once the master asked this request to stop (it was cancelled): return soon.
    ///
    /// A long computation should check this now and then; what it returns after a stop does
    /// not matter much, as the master no longer waits for it.
    @inlinable
    public var shouldStop: Bool { channel.shouldStop }

    /// Opens a file the master published (see ``MasterHost/blobReference(_:for:)``), read-only.
    /// The descriptor is yours to close. May block while the content comes from the master.
    @inlinable
    public func openBlob(_ reference: [UInt8]) throws(BlobError) -> Int32 {
        try channel.openBlob(reference).get()
    }
}
