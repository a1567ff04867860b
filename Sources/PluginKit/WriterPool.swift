/// One spare ``BinaryWriter`` that a session reuses, so that steady-state encoding allocates
/// nothing.
///
/// ``withWriter(_:)`` takes the spare out for the duration of the body (a nested call simply
/// gets a new writer) and puts the emptied writer back afterwards, keeping its capacity unless
/// one message made it grow past 64 KiB.
@usableFromInline
final class WriterPool {
    // Only `withWriter` touches it, by swapping it out and back: no access can overlap.
    @usableFromInline @exclusivity(unchecked)
    var spare = BinaryWriter()

    @inlinable
    init() {}

    /// Runs `body` with an empty writer.
    @inlinable
    func withWriter<Result, Failure: Error>(
        _ body: (inout BinaryWriter) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var writer = BinaryWriter()
        swap(&writer, &spare)
        defer {
            writer.removeAll()
            spare = writer
        }
        return try body(&writer)
    }
}
