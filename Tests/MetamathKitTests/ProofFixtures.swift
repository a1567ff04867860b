/// A small propositional/predicate database for proof tests, in the set.mm style.
///
/// Mandatory hypotheses: wi: wp wq; weq: vx vy; wal: wp vx; ax-mp: wp wq min maj;
/// ax-1: wp wq; ax-17: wp vx (with `$d x p`).
enum ProofFixtures {
    static let base = """
        $c ( ) -> wff |- set = A. $.
        $v p q r x y z $.
        wp $f wff p $.
        wq $f wff q $.
        wr $f wff r $.
        vx $f set x $.
        vy $f set y $.
        vz $f set z $.
        wi $a wff ( p -> q ) $.
        weq $a wff x = y $.
        wal $a wff A. x p $.
        ${
          min $e |- p $.
          maj $e |- ( p -> q ) $.
          ax-mp $a |- q $.
        $}
        ax-1 $a |- ( p -> ( q -> p ) ) $.
        ${
          $d x p $.
          ax-17 $a |- ( p -> A. x p ) $.
        $}

        """

    /// The correct proof of a1i (`|- p` ⇒ `|- ( q -> p )`), 9 steps.
    static let a1iProof = "wp wq wp wi a1i.1 wp wq ax-1 ax-mp"
    static let a1iMandatory = ["wp", "wq", "a1i.1"]

    /// The database with theorem a1i proved by `proof` (normal or compressed).
    static func a1i(_ proof: String, statement: String = "|- ( q -> p )", after: String = "") -> String {
        base + """
            ${
              a1i.1 $e |- p $.
              a1i $p \(statement) $= \(proof) $.
            $}
            \(after)
            """
    }

    /// The database with one theorem `th` (no hypotheses of its own) proved by `proof`.
    static func theorem(_ statement: String, _ proof: String, disjoint: String = "", after: String = "") -> String {
        base + """
            ${
              \(disjoint)
              th $p \(statement) $= \(proof) $.
            $}
            \(after)
            """
    }
}
