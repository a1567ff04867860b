/// A task kind's static metadata, read where its type is known.
@usableFromInline
struct KindMetadata {
    var name: String
    var version: String
    var summary: String
    var usage: String
    var defaultPolicy: WorkerPolicy

    @inlinable
    init<Kind: TaskKind>(_ kind: Kind.Type) {
        self.init(
            name: Kind.name, version: Kind.version, summary: Kind.summary, usage: Kind.usage,
            defaultPolicy: Kind.defaultPolicy)
    }

    @usableFromInline
    init(name: String, version: String, summary: String, usage: String, defaultPolicy: WorkerPolicy) {
        self.name = name
        self.version = version
        self.summary = summary
        self.usage = usage
        self.defaultPolicy = defaultPolicy
    }
}
