import PluginKit

/// A worker's progress feedback: `count` more theorems of the batch that starts with statement
/// `batch` were checked. Keyed by batch, not by worker, so that a batch retried on another worker
/// after a death is never counted twice.
struct ProgressNote: BinaryCodable, Hashable {
    /// Statement index (in the image) of the batch's first theorem.
    var batch: Int32
    /// Theorems checked since the previous note.
    var count: UInt32

    init(batch: Int32, count: UInt32) {
        self.batch = batch
        self.count = count
    }

    func encode(to writer: inout BinaryWriter) {
        writer.write(batch)
        writer.write(count)
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        batch = try reader.read()
        count = try reader.read()
    }
}
