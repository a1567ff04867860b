import MetamathKit
import PluginKit

/// A theorem of a batch that did not simply verify.
struct ProofProblem: BinaryCodable, Hashable {
    /// The theorem's statement index in the image.
    var theorem: Int32
    /// What went wrong.
    var result: ProofResult

    func encode(to writer: inout BinaryWriter) {
        writer.write(theorem)
        switch result {
        case .verified:
            writer.writeByte(0)
        case .incomplete(let unknownSteps):
            writer.writeByte(1)
            writer.write(unknownSteps)
        case .failed(let failure):
            writer.writeByte(2)
            writer.write(failure)
        }
    }

    init(theorem: Int32, result: ProofResult) {
        self.theorem = theorem
        self.result = result
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        theorem = try reader.read()
        let offset = reader.offset
        switch try reader.readByte() {
        case 0: result = .verified
        case 1: result = .incomplete(unknownSteps: try reader.read())
        case 2: result = .failed(try reader.read())
        case let tag: throw BinaryDecodingError(.invalidValue, at: offset, "unknown proof result tag \(tag)")
        }
    }
}

extension ProofFailure: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(step)
        writer.write(label)
        writer.write(message)
    }

    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let step: Int = try reader.read()
        let label: String = try reader.read()
        let message: String = try reader.read()
        self.init(step: step, label: label, message: message)
    }
}

/// What a worker answers.
enum ProofResponse: BinaryCodable, Hashable {
    /// A batch was verified: how many theorems verified, and the others.
    case verified(count: Int32, problems: [ProofProblem])
    /// The proof stack after the requested step, bottom first (or why it cannot be computed).
    case state(Result<[String], ProofFailure>)

    func encode(to writer: inout BinaryWriter) {
        switch self {
        case .verified(let count, let problems):
            writer.writeByte(0)
            writer.write(count)
            writer.write(problems)
        case .state(.success(let stack)):
            writer.writeByte(1)
            writer.write(stack)
        case .state(.failure(let failure)):
            writer.writeByte(2)
            writer.write(failure)
        }
    }

    init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let offset = reader.offset
        switch try reader.readByte() {
        case 0: self = .verified(count: try reader.read(), problems: try reader.read())
        case 1: self = .state(.success(try reader.read()))
        case 2: self = .state(.failure(try reader.read()))
        case let tag: throw BinaryDecodingError(.invalidValue, at: offset, "unknown proof response tag \(tag)")
        }
    }
}
