import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The master's end of an agent that connects back (see ``AgentConnectBack``): a listening
/// socket on an ephemeral port and the secret only the launched agent knows.
///
/// ``await(until:relay:)`` accepts connections until one sends the secret first; anyone else
/// is disconnected. The agent may also answer over its launcher's relay instead (it could not
/// connect): then the launcher's output has news, and the relay is used as without connecting back.
final class AgentRendezvous {
    /// The port the agent is told to connect to.
    let port: Int
    /// The secret the agent must send first (hexadecimal digits).
    let secret: [UInt8]
    private var listener: Int32

    /// How the agent answered.
    enum Outcome: Equatable {
        /// A connection that sent the secret (TCP_NODELAY set); the caller owns the descriptor.
        case connected(Int32)
        /// News on the launcher's output (the agent's hello there, or its end).
        case relay
        /// Neither before the deadline.
        case timedOut
    }

    /// Listens on every IPv4 address. Throws when no socket or no secret can be had.
    init() throws(WorkerSpawnError) {
        guard let secret = AgentConnectBack.makeSecret() else {
            throw WorkerSpawnError(message: "no random bytes for the agent's secret: \(SystemError.current)")
        }
        var port: Int32 = 0
        let listener = csupport_tcp_listen(&port)
        guard listener >= 0 else { throw WorkerSpawnError(message: "cannot listen for the agent: \(SystemError.current)") }
        self.secret = secret
        self.listener = listener
        self.port = Int(port)
    }

    deinit { close() }

    /// The agent's environment entry that hands it the secret.
    var environmentEntry: String { "\(AgentConnectBack.secretVariable)=\(String(decoding: secret, as: UTF8.self))" }

    /// How long one peer may take to send the secret once connected (the agent sends it at once).
    static let peerDeadline: UInt64 = 200_000_000
    /// How many peers are checked at once; the oldest is disconnected to admit one more.
    static let peerCap = 32

    /// A connection that has not yet sent the whole secret.
    private struct Peer {
        let descriptor: Int32
        let deadline: UInt64
        var offered: [UInt8] = []
    }

    /// Waits until `deadline` (monotonic nanoseconds) for the agent to connect and send the
    /// secret, or for news on `relay` (not read here).
    ///
    /// Peers are checked concurrently, each for at most ``peerDeadline`` and at most
    /// ``peerCap`` at once, so connections that send nothing (a port scanner) cannot hold the
    /// agent's connection in the listener's queue.
    func await(until deadline: UInt64, relay: Int32) -> Outcome {
        var peers: [Peer] = []
        defer { for peer in peers { Glibc.close(peer.descriptor) } }
        while true {
            let now = monotonicNanoseconds()
            guard now < deadline else { return .timedOut }
            peers.removeAll { peer in
                guard peer.deadline <= now else { return false }
                Glibc.close(peer.descriptor)
                return true
            }
            let wake = peers.reduce(deadline) { min($0, $1.deadline) }
            var watched = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: relay, events: Int16(POLLIN), revents: 0)]
                + peers.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let ready = retryingOnInterrupt { poll(&watched, nfds_t(watched.count), AgentRendezvous.milliseconds(until: wake, from: now)) }
            if ready < 0 { return .timedOut }
            if watched[1].revents != 0 { return .relay }
            var finished: [Int] = []
            for index in peers.indices where watched[index + 2].revents != 0 {
                switch read(into: &peers[index]) {
                case .some(true):
                    let descriptor = peers[index].descriptor
                    peers.remove(at: index)
                    close()
                    return .connected(descriptor)
                case .some(false):
                    finished.append(index)
                case nil:
                    break
                }
            }
            for index in finished.reversed() { Glibc.close(peers.remove(at: index).descriptor) }
            if watched[0].revents != 0 { acceptAll(into: &peers, now: monotonicNanoseconds(), until: deadline) }
        }
    }

    /// Accepts every connection waiting on the (non-blocking) listener, disconnecting the oldest
    /// peers beyond ``peerCap``.
    private func acceptAll(into peers: inout [Peer], now: UInt64, until deadline: UInt64) {
        while true {
            let descriptor = csupport_tcp_accept(listener)
            guard descriptor >= 0 else { return }
            if peers.count >= AgentRendezvous.peerCap { Glibc.close(peers.removeFirst().descriptor) }
            peers.append(Peer(descriptor: descriptor, deadline: min(deadline, now &+ AgentRendezvous.peerDeadline)))
        }
    }

    /// Reads what `peer` has sent of the secret: `true` once it sent the whole secret, `false`
    /// when it sent something else or hung up, `nil` while it may still send the rest.
    private func read(into peer: inout Peer) -> Bool? {
        var buffer = [UInt8](repeating: 0, count: secret.count - peer.offered.count)
        let got = buffer.withUnsafeMutableBytes { bytes in
            retryingOnInterrupt { Glibc.recv(peer.descriptor, bytes.baseAddress!, bytes.count, Int32(MSG_DONTWAIT)) }
        }
        if got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return nil }
        guard got > 0 else { return false }
        peer.offered += buffer[..<got]
        guard peer.offered.count == secret.count else { return nil }
        return AgentConnectBack.matches(peer.offered, secret)
    }

    /// Stops listening.
    func close() {
        if listener >= 0 { Glibc.close(listener) }
        listener = -1
    }

    private static func milliseconds(until deadline: UInt64, from now: UInt64) -> Int32 {
        Int32(min(UInt64(Int32.max), (deadline &- now) / 1_000_000 + 1))
    }
}
