/// What a worker holds, as the task kind sees it (Coq's `Fresh` / `Old competence`).
public enum WorkerStatus: Sendable, Equatable {
    /// Just born: holds nothing.
    case fresh
    /// Kept alive by `stay`, holding this competence.
    case old(competence: [UInt8])
}
