// ProofCheck: a parallel Metamath verifier as a task kind (Coq's ProofTask, for Metamath).
//
//     plugin-host run proofcheck [--theorem LABEL] [--persistent] [--strict] [--json] FILE.mm
//
// The master parses the database once (MetamathKit), checks everything that is not a proof,
// writes one memory-mappable image of it and splits the `$p`s into batches; workers map the
// image and verify their batch. A failing proof makes its worker stay to compute the proof
// stack just before the failing step (the seed's "request state 33" example).

import PluginKit

/// The plugin's entry point: exports ``ProofCheckKind``.
@_cdecl("plugin_host_entry")
public func pluginHostEntry(_ major: UInt32, _ minor: UInt32, _ out: UnsafeMutablePointer<PluginDescriptor>?) -> Int32 {
    PluginExport.fill(out, hostMajor: major, hostMinor: minor, kind: ProofCheckKind.self)
}
