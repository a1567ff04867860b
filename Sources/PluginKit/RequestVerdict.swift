/// What `request_of_task` answers.
@usableFromInline
enum RequestVerdict {
    /// A request, or a marshal error, was written to the sink.
    case ready
    /// The task is obsolete.
    case obsolete
}
