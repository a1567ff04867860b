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

    /// Waits until `deadline` (monotonic nanoseconds) for the agent to connect and send the
    /// secret, or for news on `relay` (not read here).
    func await(until deadline: UInt64, relay: Int32) -> Outcome {
        while true {
            let now = monotonicNanoseconds()
            guard now < deadline else { return .timedOut }
            var watched = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: relay, events: Int16(POLLIN), revents: 0)]
            let ready = retryingOnInterrupt { poll(&watched, 2, AgentRendezvous.milliseconds(until: deadline, from: now)) }
            if ready < 0 { return .timedOut }
            if watched[1].revents != 0 { return .relay }
            guard watched[0].revents != 0 else { continue }
            let peer = csupport_tcp_accept(listener)
            guard peer >= 0 else { continue }
            if authenticated(peer, until: min(deadline, monotonicNanoseconds() &+ 1_000_000_000)) {
                close()
                return .connected(peer)
            }
            Glibc.close(peer)
        }
    }

    /// Stops listening.
    func close() {
        if listener >= 0 { Glibc.close(listener) }
        listener = -1
    }

    /// Reads the first ``AgentConnectBack/secretLength`` bytes of `peer` (at most until
    /// `deadline`) and compares them with the secret.
    private func authenticated(_ peer: Int32, until deadline: UInt64) -> Bool {
        var offered = [UInt8](repeating: 0, count: secret.count)
        var count = 0
        while count < offered.count {
            let now = monotonicNanoseconds()
            guard now < deadline else { return false }
            var entry = pollfd(fd: peer, events: Int16(POLLIN), revents: 0)
            guard retryingOnInterrupt({ poll(&entry, 1, AgentRendezvous.milliseconds(until: deadline, from: now)) }) == 1 else {
                return false
            }
            let got = offered.withUnsafeMutableBytes { buffer in
                retryingOnInterrupt { read(peer, buffer.baseAddress! + count, buffer.count - count) }
            }
            guard got > 0 else { return false }
            count += got
        }
        return AgentConnectBack.matches(offered, secret)
    }

    private static func milliseconds(until deadline: UInt64, from now: UInt64) -> Int32 {
        Int32(min(UInt64(Int32.max), (deadline &- now) / 1_000_000 + 1))
    }
}
