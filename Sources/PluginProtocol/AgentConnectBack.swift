import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// How a worker agent started by `srun` reaches its master over a TCP connection of its own
/// instead of srun's relay of its standard input and output.
///
/// The master listens on an ephemeral port and starts the agent with `--connect-back PORT` and a
/// fresh random secret in the environment (``secretVariable``, exported by srun to its task and
/// removed by the agent before it starts any worker). The agent connects to the master's
/// address as Slurm gives it (``addressVariable``), sends the secret, then speaks the agent
/// protocol on the socket. The master accepts only a peer that sends the secret first; both ends
/// set TCP_NODELAY. Without the secret or the address, or when the connection fails, the agent
/// speaks over its standard input and output as usual.
public enum AgentConnectBack {
    /// The environment variable that carries the connection's secret to the agent.
    public static let secretVariable = "PLUGIN_HOST_AGENT_SECRET"
    /// The environment variable naming the master's address: set by srun for its tasks (the
    /// address the node reaches srun at).
    public static let addressVariable = "SLURM_LAUNCH_NODE_IPADDR"
    /// Bytes of a secret as sent on the connection: 32 random bytes as hexadecimal digits.
    public static let secretLength = 64

    /// A fresh secret (``secretLength`` hexadecimal digits), or nil when the system has no
    /// random bytes to give.
    public static func makeSecret() -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: secretLength / 2)
        guard csupport_random_bytes(&bytes, bytes.count) == 0 else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        return bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }
    }

    /// Whether `offered` is `secret`, comparing every byte whatever the first difference (no
    /// timing tells how much of a guess was right).
    public static func matches(_ offered: [UInt8], _ secret: [UInt8]) -> Bool {
        guard offered.count == secret.count else { return false }
        var difference: UInt8 = 0
        for index in secret.indices { difference |= offered[index] ^ secret[index] }
        return difference == 0
    }
}
