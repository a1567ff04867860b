import SystemPackage

/// The running kernel's boot id (`/proc/sys/kernel/random/boot_id`): a new one at each boot, so a
/// journal segment written in another boot went through a reboot (an operating system crash or a
/// power loss may have lost what was not synced).
enum BootID {
    /// Recorded where the kernel does not tell: never taken for the same boot (a resume then
    /// trusts only synced checkpoints).
    static let unknown = "unknown"

    /// This boot's id, or ``unknown``.
    static let current: String = {
        guard let descriptor = try? FileDescriptor.open("/proc/sys/kernel/random/boot_id", .readOnly) else { return unknown }
        defer { try? descriptor.close() }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = (try? buffer.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }) ?? 0
        let text = String(decoding: buffer[0..<count], as: UTF8.self).filter { !$0.isWhitespace }
        return text.isEmpty ? unknown : text
    }()
}
