/// The Metamath keywords, by the character after `$`.
enum Keyword: UInt8 {
    case constant = 0x63        // $c
    case variable = 0x76        // $v
    case floating = 0x66        // $f
    case essential = 0x65       // $e
    case axiom = 0x61           // $a
    case provable = 0x70        // $p
    case disjoint = 0x64        // $d
    case openScope = 0x7B       // ${
    case closeScope = 0x7D      // $}
    case end = 0x2E             // $.
    case proof = 0x3D           // $=
    case openComment = 0x28     // $(
    case closeComment = 0x29    // $)
    case openInclude = 0x5B     // $[
    case closeInclude = 0x5D    // $]

    /// The keyword whose character after `$` is `byte`, or nil: `init(rawValue:)`, inlined
    /// (the synthesized initializer is a call for every token the parser asks about).
    @inline(__always)
    static func after(dollar byte: UInt8) -> Keyword? {
        switch byte {
        case 0x63: .constant
        case 0x76: .variable
        case 0x66: .floating
        case 0x65: .essential
        case 0x61: .axiom
        case 0x70: .provable
        case 0x64: .disjoint
        case 0x7B: .openScope
        case 0x7D: .closeScope
        case 0x2E: .end
        case 0x3D: .proof
        case 0x28: .openComment
        case 0x29: .closeComment
        case 0x5B: .openInclude
        case 0x5D: .closeInclude
        default: nil
        }
    }

    /// The keyword as written, e.g. "$c".
    var spelling: String { "$" + String(UnicodeScalar(rawValue)) }
}
