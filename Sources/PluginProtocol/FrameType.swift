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

    // The worker agent's connection (`plugin-worker --agent`): one per host, carrying every
    // worker of that host. Its frames share this header; the id names the worker (the master's
    // number for it; 0 for the agent itself). Text payloads are fields separated by NUL bytes
    // (``AgentFields``). These types never appear between a master and a worker.

    /// Agent → master, id 0, first: `AGENT-VERSION PROTOCOL-VERSION PID HOSTNAME`.
    case agentHello = 0x40
    /// Master → agent: start worker `id`: `NAME PLUGIN-PATH SHA256-HEX SIZE REPORT-MEMORY(0|1)`.
    case agentSpawn = 0x41
    /// Agent → master: worker `id` started: `PID`.
    case agentSpawned = 0x42
    /// Agent → master: worker `id` could not be started: a one-line reason.
    case agentSpawnFailed = 0x43
    /// Master → agent: bytes for worker `id`'s standard input (whole worker frames).
    case agentInput = 0x44
    /// Master → agent: close worker `id`'s standard input once its queued bytes are written.
    case agentCloseInput = 0x45
    /// Master → agent: send signal `NUMBER` to worker `id`'s process group (only before its end
    /// was asked for and reported: its pid is not reused until then).
    case agentSignal = 0x46
    /// Agent → master: bytes worker `id` wrote to its standard output (the master decodes frames).
    case agentOutput = 0x47
    /// Agent → master: worker `id`'s standard output ended.
    case agentOutputEnd = 0x48
    /// Agent → master: bytes worker `id` wrote to its standard error.
    case agentStderr = 0x49
    /// Agent → master: worker `id`'s standard error ended.
    case agentStderrEnd = 0x4A
    /// Master → agent: the master is done with worker `id`: reap it once it ended and report.
    case agentWait = 0x4B
    /// Agent → master: worker `id` was reaped: `x STATUS` (exited), `s SIGNAL` (killed) or `u 0`.
    case agentExit = 0x4C
    /// Agent → master: worker `id`'s resident memory in bytes, sent before the output it read
    /// at that moment (only for workers spawned with REPORT-MEMORY 1).
    case agentMemory = 0x4D
    /// Agent → master, id = a request number: send me the plugin file with this SHA-256 (hex);
    /// the master answers with ``blobData`` frames and a ``blobEnd`` of the same id.
    case agentPluginRequest = 0x4E
}
