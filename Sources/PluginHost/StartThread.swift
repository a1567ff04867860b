import PluginProtocol

/// Starts a detached thread running `body` (the host cannot run without its threads), with
/// the protocol layer's one `pthread_create`.
func startThread(_ body: @escaping @Sendable () -> Void) {
    let rc = startDetachedThread(body)
    precondition(rc == 0, "pthread_create failed: \(rc)")
}
