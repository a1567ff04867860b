$( implication.mm: a small Metamath database for `make demo`, written for PluginHost.

   The implicational fragment of propositional calculus: the wff syntax, the axioms ax-1 and
   ax-2, modus ponens, and a few theorems proved from them, some in normal format and some in
   compressed format.  Every proof verifies. $)

  $c ( ) -> wff |- $.
  $v ph ps ch th $.

  wph $f wff ph $.
  wps $f wff ps $.
  wch $f wff ch $.
  wth $f wff th $.

  $( If ph and ps are wffs, so is ( ph -> ps ). $)
  wi $a wff ( ph -> ps ) $.

  $( Axiom of simplification. $)
  ax-1 $a |- ( ph -> ( ps -> ph ) ) $.

  $( Axiom of distribution. $)
  ax-2 $a |- ( ( ph -> ( ps -> ch ) ) -> ( ( ph -> ps ) -> ( ph -> ch ) ) ) $.

  ${
    min $e |- ph $.
    maj $e |- ( ph -> ps ) $.
    $( Modus ponens. $)
    ax-mp $a |- ps $.
  $}

  $( Identity: the classic five-step proof, in normal format. $)
  id $p |- ( ph -> ph ) $=
    wph wph wph wi wi wph wph wi wph wph ax-1 wph wph wph wi wph wi wi wph wph
    wph wi wi wph wph wi wi wph wph wph wi ax-1 wph wph wph wi wph ax-2 ax-mp
    ax-mp $.

  $( The same theorem, in compressed format. $)
  idc $p |- ( ph -> ph ) $=
    ( wi ax-1 ax-2 ax-mp ) AAABBAABAACAAABABBAAABBAABBAAABCAAABADEE $.

  ${
    a1i.1 $e |- ph $.
    $( Inference introducing an antecedent. $)
    a1i $p |- ( ps -> ph ) $=
      wph wps wph wi a1i.1 wph wps ax-1 ax-mp $.
  $}

  ${
    a2i.1 $e |- ( ph -> ( ps -> ch ) ) $.
    $( Inference distributing an antecedent. $)
    a2i $p |- ( ( ph -> ps ) -> ( ph -> ch ) ) $=
      ( wi ax-2 ax-mp ) ABCEEABEACEEDABCFG $.
  $}

  ${
    syl.1 $e |- ( ph -> ps ) $.
    syl.2 $e |- ( ps -> ch ) $.
    $( Syllogism: chaining two implications. $)
    syl $p |- ( ph -> ch ) $=
      wph wps wi wph wch wi syl.1 wph wps wch wi wi wph wps wi wph wch wi wi wps
      wch wi wph syl.2 a1i wph wps wch ax-2 ax-mp ax-mp $.
  $}

  ${
    imim2i.1 $e |- ( ph -> ps ) $.
    $( Add an antecedent to both sides of an implication. $)
    imim2i $p |- ( ( ch -> ph ) -> ( ch -> ps ) ) $=
      ( wi a1i a2i ) CABABECDFG $.
  $}

  ${
    sylc.1 $e |- ( ph -> ps ) $.
    sylc.2 $e |- ( ps -> ch ) $.
    sylc.3 $e |- ( ch -> th ) $.
    $( Three implications chained. $)
    syl3 $p |- ( ph -> th ) $=
      ( syl ) ACDABCEFHGH $.
  $}

  $( Identity again, through syl: the proof of ( ph -> ph ) is built once and re-used (Z). $)
  idsyl $p |- ( ph -> ph ) $=
    ( id syl ) AAAABZDC $.
