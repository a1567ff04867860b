import PluginKit

/// Where a worker finds the database image.
struct ImageReference: BinaryCodable, Hashable {
    /// A path the worker can open (the master's `/proc/PID/fd/N` link to its image file).
    var path: String
    /// The image's digest; the worker checks it after mapping.
    var digest: UInt64
    /// True when the file is the master's own unlinked image on this machine: the worker then
    /// checks the header and the digest field but does not re-hash every byte (about 12 ms for
    /// a 66 MB image, at every one-shot worker's start).
    var isMastersOwnFile: Bool
    /// The host's blob reference to the image file (`PH_EXT_BLOBS`): the worker opens it through
    /// the host, which hands a worker on another machine a verified copy. Empty: use `path`.
    var blob: [UInt8]

    func encode(to writer: inout BinaryWriter) {
        writer.write(path)
        writer.write(digest)
        writer.write(isMastersOwnFile)
        writer.write(blob)
    }

    init(path: String, digest: UInt64, isMastersOwnFile: Bool, blob: [UInt8] = []) {
        self.path = path
        self.digest = digest
        self.isMastersOwnFile = isMastersOwnFile
        self.blob = blob
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        path = try reader.read()
        digest = try reader.read()
        isMastersOwnFile = try reader.read()
        blob = try reader.read()
    }
}

/// What a worker receives.
struct ProofRequest: BinaryCodable, Hashable {
    /// The work itself.
    enum Work: Hashable {
        /// Verify these theorems (statement indices in the image), in order.
        case verify([Int32])
        /// The proof stack of a theorem after `step` steps.
        case state(theorem: Int32, afterStep: Int32)
    }

    /// The image to map, for a worker that does not hold it (`nil` for an Old worker: its
    /// competence says it holds the image already).
    var image: ImageReference?
    /// The work.
    var work: Work

    func encode(to writer: inout BinaryWriter) {
        writer.write(image)
        switch work {
        case .verify(let theorems):
            writer.writeByte(0)
            writer.write(theorems)
        case .state(let theorem, let step):
            writer.writeByte(1)
            writer.write(theorem)
            writer.write(step)
        }
    }

    init(image: ImageReference?, work: Work) {
        self.image = image
        self.work = work
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        image = try reader.read()
        let offset = reader.offset
        switch try reader.readByte() {
        case 0: work = .verify(try reader.read())
        case 1: work = .state(theorem: try reader.read(), afterStep: try reader.read())
        case let tag: throw BinaryDecodingError(.invalidValue, at: offset, "unknown proof request tag \(tag)")
        }
    }
}
