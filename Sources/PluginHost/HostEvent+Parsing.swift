extension HostEvent {
    /// Reads one line of an `--events` file (the inverse of ``jsonLine``). Returns nil for an
    /// event this host does not know (one of a newer host: events are only ever added); throws a
    /// short cause for a line that is not an event.
    init?(jsonLine bytes: UnsafeBufferPointer<UInt8>) throws(EventLineError) {
        let object: FlatJSONObject
        do { object = try FlatJSONObject(parsing: bytes) } catch { throw EventLineError(error.description) }
        guard case .string(let name)? = object["event"] else { throw EventLineError("not a plugin-host event (no \"event\" field)") }
        let fields = EventFields(object: object, event: name)
        let time = try fields.number("time")
        let kind: Kind
        switch name {
        case "task-queued":
            kind = .taskQueued(task: try fields.integer("task"), kind: try fields.string("kind"), name: try fields.optionalString("name"),
                               parent: try fields.optionalInteger("parent"))
        case "task-started":
            kind = .taskStarted(task: try fields.integer("task"), worker: try fields.string("worker"), attempt: Int(try fields.integer("attempt")))
        case "task-ended":
            let outcomeName = try fields.string("outcome")
            guard let outcome = TaskOutcome(rawValue: outcomeName) else { throw EventLineError("task-ended: unknown outcome '\(outcomeName)'") }
            kind = .taskEnded(task: try fields.integer("task"), kind: try fields.string("kind"), outcome: outcome,
                              message: try fields.optionalString("message"))
        case "task-retried":
            kind = .taskRetried(task: try fields.integer("task"), reason: try fields.string("reason"))
        case "worker-started":
            kind = .workerStarted(worker: try fields.string("worker"), pid: Int32(truncatingIfNeeded: try fields.integer("pid")),
                                  startup: try fields.number("startup"))
        case "worker-ended":
            kind = .workerEnded(worker: try fields.string("worker"), reason: try fields.string("reason"))
        case "spawn-failed":
            kind = .spawnFailed(kind: try fields.string("kind"), message: try fields.string("message"))
        case "host-down":
            kind = .hostDown(host: try fields.string("host"), message: try fields.string("message"), seconds: try fields.number("seconds"))
        case "host-dropped":
            kind = .hostDropped(host: try fields.string("host"), message: try fields.string("message"))
        case "feedback":
            kind = .feedback(worker: try fields.string("worker"), task: try fields.integer("task"), bytes: Int(try fields.integer("bytes")))
        case "log":
            kind = .log(source: try fields.string("source"), level: Int(try fields.integer("level")), message: try fields.string("message"))
        default:
            return nil
        }
        self.init(time: time, kind: kind)
    }
}

/// Why a line of an events file is not an event (without the file and line, which the reader adds).
struct EventLineError: Error {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Typed access to an event's fields, with errors naming the event and the field.
private struct EventFields {
    let object: FlatJSONObject
    let event: String

    func number(_ key: String) throws(EventLineError) -> Double {
        guard let value = object[key] else { throw EventLineError("\(event) without \"\(key)\"") }
        guard case .number(let number) = value else { throw EventLineError("\(event): \"\(key)\" is not a number") }
        return number
    }

    func integer(_ key: String) throws(EventLineError) -> UInt64 {
        let value = try number(key)
        guard value >= 0, value < 1.8e19, value == value.rounded() else {
            throw EventLineError("\(event): \"\(key)\" is not a whole number")
        }
        return UInt64(value)
    }

    func optionalInteger(_ key: String) throws(EventLineError) -> UInt64? {
        object[key] == nil || object[key] == .null ? nil : try integer(key)
    }

    func string(_ key: String) throws(EventLineError) -> String {
        guard let value = object[key] else { throw EventLineError("\(event) without \"\(key)\"") }
        guard case .string(let text) = value else { throw EventLineError("\(event): \"\(key)\" is not a string") }
        return text
    }

    func optionalString(_ key: String) throws(EventLineError) -> String? {
        object[key] == nil || object[key] == .null ? nil : try string(key)
    }
}
