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

    /// The keyword as written, e.g. "$c".
    var spelling: String { "$" + String(UnicodeScalar(rawValue)) }
}
