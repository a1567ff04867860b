/// What ``TaskKind/pull(upTo:)`` says about the input after queueing tasks.
public enum PullResult: Hashable, Sendable {
    /// More tasks may come: the host calls `pull` again when workers are idle.
    case moreMayCome
    /// The input is exhausted: the host stops calling `pull`.
    case exhausted
}
