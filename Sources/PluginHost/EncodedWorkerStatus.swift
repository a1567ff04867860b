/// What a worker holds (Coq's `Fresh` / `Old competence`), with the competence as the bytes the
/// plugin encoded: the host never looks inside. (PluginKit's `WorkerStatus` is the typed view a
/// Swift plugin sees.)
enum EncodedWorkerStatus: Sendable, Equatable {
    /// Just born: holds nothing.
    case fresh
    /// Kept alive by `stay`, holding this competence.
    case old(competence: [UInt8])
}
