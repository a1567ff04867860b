import PluginProtocol

/// Where the worker's frames from the master come from: its own blocking reads of the protocol
/// descriptor, or, with heartbeats, the ``MasterLink`` reader thread. Both the request loop and a
/// blob fetch inside a request read through it.
final class FrameSource {
    /// What ``next()`` returns.
    enum Item {
        /// A frame; its payload may be a slice of the reader's buffer: handle it before the next read.
        case frame(ReceivedFrame)
        case end
        case failure(String)
    }

    private var reader: FrameReader
    private let link: MasterLink?

    init(input: Descriptor, link: MasterLink?) {
        reader = FrameReader(descriptor: input)
        self.link = link
    }

    /// The next frame from the master (heartbeats are absorbed), its end, or a failure; blocks.
    func next() -> Item {
        if let link { return link.next() }
        while true {
            do {
                guard let frame = try reader.nextReceived() else { return .end }
                if frame.type != .heartbeat { return .frame(frame) }
            } catch {
                return .failure("unreadable input from the master: \(error)")
            }
        }
    }
}
