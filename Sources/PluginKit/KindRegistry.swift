import Synchronization

/// The task kind this library image exports, set once by ``PluginExport/fill(_:hostMajor:hostMinor:kind:)``.
///
/// ## Why a process-global
///
/// C function pointers cannot capture anything, let alone a generic type, and two callbacks
/// (`master_open`, `worker_init`) receive no instance pointer. So the entry point records the
/// kind here, as a type-erased ``KindDriver``, and those two thunks read it back; every other
/// callback reaches the typed session through the instance pointer they return.
///
/// ## Why it is safe
///
/// The host calls the entry point once per process, before any callback; the registration
/// never changes afterwards (a second call with the same kind is a no-op, one with another kind
/// is refused), and a `Mutex` orders the write before every read even if a host calls the entry
/// point and the callbacks from different threads. Each plugin library carries its own copy of
/// PluginKit and so its own registry: one task kind per library.
enum KindRegistry {
    private static let current = Mutex<KindRegistration?>(nil)

    /// Records the kind identified by `kind` as this image's task kind, or returns the existing
    /// registration if it is the same kind.
    static func register(
        kind: ObjectIdentifier, metadata: KindMetadata, driver: () -> KindDriver
    ) -> Result<KindRegistration, PluginExport.Refusal> {
        guard isValidName(metadata.name) else { return .failure(.invalidName) }
        return current.withLock { registration in
            if let existing = registration {
                return existing.kind == kind ? .success(existing) : .failure(.anotherKindExported)
            }
            let new = KindRegistration(
                kind: kind, driver: driver(),
                strings: DescriptorStrings(
                    name: metadata.name, version: metadata.version, description: metadata.summary,
                    usage: metadata.usage),
                defaultPolicy: metadata.defaultPolicy)
            registration = new
            return .success(new)
        }
    }

    /// The registered driver, or `nil` if the entry point has not run.
    static var driver: KindDriver? {
        current.withLock { $0?.driver }
    }

    /// `[a-z0-9_-]+`, as the ABI requires of a task kind's name.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// One library image's exported task kind.
struct KindRegistration: Sendable {
    /// The identity of the ``TaskKind`` type.
    var kind: ObjectIdentifier
    /// Starts the kind's sessions without naming its type.
    var driver: KindDriver
    /// The descriptor's strings, allocated once and never freed.
    var strings: DescriptorStrings
    /// The descriptor's default policy.
    var defaultPolicy: WorkerPolicy
}
