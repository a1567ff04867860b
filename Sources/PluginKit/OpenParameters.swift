/// The master's open parameters, converted from the ABI.
@usableFromInline
struct OpenParameters {
    @usableFromInline var commandName: String
    @usableFromInline var arguments: [String]
    @usableFromInline var policy: WorkerPolicy
    @usableFromInline var maxWorkers: Int

    init(commandName: String, arguments: [String], policy: WorkerPolicy, maxWorkers: Int) {
        self.commandName = commandName
        self.arguments = arguments
        self.policy = policy
        self.maxWorkers = maxWorkers
    }
}
