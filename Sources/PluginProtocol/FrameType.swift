/// The kind of a frame on the master–worker wire.
public enum FrameType: UInt8, Sendable, CaseIterable {
    /// Worker → master, once, first: who the worker is (see ``Hello``).
    case hello = 1
    /// Master → worker: perform this request; the frame's id is the task id.
    case request = 2
    /// Worker → master: the response to the request with the same id.
    case response = 3
    /// Worker → master: one feedback message for the running request, before its response.
    case feedback = 4
    /// Master → worker: a feedback message for every worker, handled between requests.
    case broadcast = 5
    /// Worker → master: the request could not be performed (decode failure, plugin refused, or
    /// the plugin failed to load before the handshake); payload is a UTF-8 message.
    case error = 6
    /// Either way, id 0, no payload: "still here". Sent every heartbeat interval by both sides
    /// of a link that asked for heartbeats (launched workers), so a silent peer is noticed
    /// without waiting for an end of file that a cut network link never delivers.
    case heartbeat = 7
    /// Worker → master, during a request: send me the blob with this SHA-256 (32-byte payload).
    case blobRequest = 8
    /// Master → worker: the next chunk of the blob asked for.
    case blobData = 9
    /// Master → worker: the blob is complete (empty payload), or cannot be sent (a UTF-8 reason).
    case blobEnd = 10
    /// Worker → master: the plugin failed the request's task (`fail_task` of "ph.task-failure/1")
    /// and the worker goes on; payload is the plugin's UTF-8 message. Unlike ``error`` this is no
    /// marshal error: the task fails, the worker is kept as it was. (Protocol version 3.)
    case taskFailure = 11
}
