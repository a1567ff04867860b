/// A frame as it was read: its payload is a slice of the reader's buffer, not a copy.
///
/// Handle it and let it go before the next read; a frame kept longer makes that read copy the
/// buffer (it stays correct either way: the slice is a value).
public struct ReceivedFrame: Sendable {
    /// What the frame carries.
    public let type: FrameType
    /// The task id for requests, responses, feedback and errors; 0 otherwise.
    public let id: UInt64
    /// The payload bytes.
    public let payload: ArraySlice<UInt8>

    /// Creates a received frame.
    public init(type: FrameType, id: UInt64, payload: ArraySlice<UInt8>) {
        self.type = type
        self.id = id
        self.payload = payload
    }
}
