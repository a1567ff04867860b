import PluginKit

/// What the master queues.
enum ProofTask: BinaryCodable, Hashable {
    /// Verify a run of consecutive theorems: positions `first ..< first + count` in the
    /// database's theorem list.
    case verify(first: Int32, count: Int32)
    /// Compute the proof stack of the theorem at `position` just before step `step` failed:
    /// a follow-up pinned to the worker that found the failure (it already holds the image).
    case state(position: Int32, step: Int32)

    func encode(to writer: inout BinaryWriter) {
        switch self {
        case .verify(let first, let count):
            writer.writeByte(0)
            writer.write(first)
            writer.write(count)
        case .state(let position, let step):
            writer.writeByte(1)
            writer.write(position)
            writer.write(step)
        }
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let offset = reader.offset
        switch try reader.readByte() {
        case 0: self = .verify(first: try reader.read(), count: try reader.read())
        case 1: self = .state(position: try reader.read(), step: try reader.read())
        case let tag: throw BinaryDecodingError(.invalidValue, at: offset, "unknown proof task tag \(tag)")
        }
    }
}
