/*
 * plugin_abi.h — the PluginHost task-kind ABI.
 *
 * A task kind is a shared library that exports one C symbol, PH_ENTRY_SYMBOL. The master process
 * (plugin-host) and the generic worker (plugin-worker) both dlopen the same library: the master
 * uses the "master side" callbacks to turn tasks into requests and to judge responses, the worker
 * uses the "worker side" callbacks to perform requests.
 *
 * The model is Coq/Rocq's asynchronous task queue (AsyncTaskQueue): a worker is Fresh when just
 * born and Old(competence) once a response has kept it alive with `stay`.
 *
 * Rules that hold for every call across this ABI:
 *  - Byte buffers are passed as (pointer, length) views that are BORROWED for the duration of the
 *    call only. The receiver copies what it wants to keep. No pointer into one side's heap is ever
 *    retained by the other side, so neither side frees the other's memory.
 *  - Results flow back through "sink" tables the host passes in (ph_request_sink, ph_response_sink,
 *    ...): the plugin calls them during the callback, the host copies at once.
 *  - Strings are NUL-terminated UTF-8, also borrowed.
 *  - Master-side callbacks of one plugin instance are never called concurrently (the host
 *    serialises them); worker-side callbacks run on the worker's main thread.
 *  - Master-side callbacks run IN THE HOST PROCESS, under the host's one scheduler lock, for
 *    every kind of the run: while one runs, no worker of any kind is served, no time limit or
 *    heartbeat is acted on. They must not block (no FIFO, socket or terminal reads, no waiting
 *    on another process, no long computation: do that in `perform`, on a worker). A call that
 *    holds the host more than a second gets one warning per callback and task on stderr, e.g.
 *    "plugin-host: warning: chaos: request_of_task has held the host for 1.0 s (task 3)"; the
 *    run is not interrupted. A crash in a master callback ends the host (one line naming the
 *    plugin and the callback).
 *
 * Growth follows CLAP (clap/plugin.h, clap/host.h, clap/ext/):
 *  - Every struct in this header is FROZEN for the whole of ABI major version 2: no field is ever
 *    added, removed or reordered. Growth happens only through extensions.
 *  - An extension is a table of functions looked up by a string id that carries its own version,
 *    e.g. "ph.blobs/1"; a table is never changed either: a new version is a new id ("ph.blobs/2").
 *    Each extension has its own header under ph/ext/ (ph/ext/progress.h, ph/ext/blobs.h,
 *    ph/ext/task-failure.h); a plugin includes this header for the core and the extension headers
 *    it uses. ABI 2.1 added "ph.task-failure/1"; ABI 2.2 the loss reason PH_LOSS_OUT_OF_MEMORY
 *    (a new enum value is given only to plugins that declare the minor version that added it;
 *    older ones get the closest reason they know).
 *  - Every host table and context has `get_extension` from the start: the master host table
 *    (ph_master_host), the worker's start parameters (ph_worker_params) and the perform context
 *    (ph_perform_context). The host never leaves it NULL, so a plugin calls it without checking
 *    a version first; it returns NULL for an extension the host does not offer, which the plugin
 *    must handle. The descriptor's `get_extension` is the plugin's own side of the same scheme.
 *  - The descriptor carries the ABI version the plugin was built with; a host accepts a plugin of
 *    its own major version, whatever the minor version (a minor version adds extensions only),
 *    and refuses any other major version with a one-line error. ABI 1.x plugins are refused.
 */
#ifndef PLUGIN_ABI_H
#define PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: a host refuses plugins with another major version. */
#define PH_ABI_VERSION_MAJOR 2
/** Minor version: grows when extensions are added; never changes a struct. */
#define PH_ABI_VERSION_MINOR 3

/**
 * Bytes the host provides (zeroed) for the descriptor `plugin_host_entry` fills. Within a major
 * version the descriptor is frozen and much smaller; the room lets a plugin of another major
 * version, whose descriptor may be longer, write its version without writing past the host's
 * memory, so that the host can refuse it by name. No descriptor of any version exceeds this.
 */
#define PH_DESCRIPTOR_ROOM 4096

/** Name of the one symbol every plugin exports (type: ph_entry_fn). */
#define PH_ENTRY_SYMBOL "plugin_host_entry"

/**
 * Worker policy: what the host does with a worker after a response, by default. The plugin's
 * answer (`stay` or not) decides, unless the operator chose a policy (`--policy`, a job file's
 * `--policy`): then one-shot binds (the worker ends after every task even when the plugin
 * answers `stay`, and the host warns once), and persistent keeps a worker only when the plugin
 * answers `stay` (the host cannot keep a worker the plugin ended).
 */
typedef enum ph_policy {
    /** Reboot after every job (Coq's ProofTask): the plugin usually answers `end`. */
    PH_POLICY_ONE_SHOT = 0,
    /** Keep workers alive between jobs (Coq's `par:`): the plugin usually answers `stay`. */
    PH_POLICY_PERSISTENT = 1,
} ph_policy;

/** A borrowed byte view. `data` may be NULL when `len` is 0. */
typedef struct ph_bytes {
    const uint8_t *data;
    size_t len;
} ph_bytes;

/** What a worker holds. `competence` is meaningful only when `is_old` is 1. */
typedef struct ph_worker_status {
    /** 0: Fresh (just born, holds nothing); 1: Old (kept alive by `stay`). */
    uint32_t is_old;
    /** The competence given with the last `stay` (borrowed). */
    ph_bytes competence;
    /**
     * The worker's name (`kind:slot:uid`, never reused in a run) when the call concerns one live
     * worker (request_of_task, use_response, task_match offered to a worker); NULL when the host
     * asks about a worker yet to be born (task_match with a Fresh status while deciding to spawn).
     * It is the name forward_feedback receives, so feedback can be matched to a response.
     */
    const char *worker_name;
} ph_worker_status;

/** How a task ended (see the host's README for the full list of outcomes). */
typedef enum ph_outcome {
    PH_OUTCOME_DONE = 0,
    PH_OUTCOME_FAILED = 1,
} ph_outcome;

/** Why a task (or an idle worker) was lost; passed to `on_task_lost`. */
typedef enum ph_loss_reason {
    /** The task was cancelled by the user or the embedding program. */
    PH_LOSS_CANCELLED = 0,
    /** The task ran past its time limit; its worker was killed. */
    PH_LOSS_EXPIRED = 1,
    /** The worker died (signal, exit, broken pipe). */
    PH_LOSS_WORKER_DIED = 2,
    /** No worker could be started (binary missing, plugin did not load, handshake mismatch). */
    PH_LOSS_SPAWN_FAILED = 3,
    /** Only one worker could run this follow-up task and that worker is gone. */
    PH_LOSS_ORPHANED = 4,
    /**
     * ABI 2.2. The worker was killed for memory: over its cgroup's `memory.max` (the kernel's
     * out-of-memory killer) or an allocation failed under its address-space limit
     * (`--worker-memory`). Retried up to `--oom-retries` times, apart from `--retries`. A plugin
     * that declares ABI 2.0 or 2.1 never sees this value: it gets PH_LOSS_WORKER_DIED instead.
     */
    PH_LOSS_OUT_OF_MEMORY = 5,
} ph_loss_reason;

/* ------------------------------------------------------------------------------------------ */
/* Host services for the master side                                                          */
/* ------------------------------------------------------------------------------------------ */

/** Services the host offers to the master side of a plugin, valid from `open` until `finish`. */
typedef struct ph_master_host {
    /** Opaque host data; pass the table itself back to every call. */
    void *host_data;
    /**
     * Queues a task (copied). Lower `priority` values run first; equal priorities run FIFO.
     * `timeout_ms` is this task's time limit, 0 for the run's default.
     * May be called from `open`, `pull`, `use_response` and the loss / marshal-error callbacks.
     */
    void (*push_task)(const struct ph_master_host *host, const void *task, size_t len,
                      int32_t priority, uint32_t timeout_ms);
    /** Sends `feedback` (copied) to every live worker of this kind (`on_broadcast` there). */
    void (*broadcast)(const struct ph_master_host *host, const void *feedback, size_t len);
    /** Logs one line. `level`: 0 debug, 1 info, 2 warning, 3 error. */
    void (*log)(const struct ph_master_host *host, uint32_t level, const char *message);
    /**
     * Returns the table of a master-side host extension by id (e.g. PH_EXT_PROGRESS from
     * ph/ext/progress.h), or NULL when the host does not offer it. Never NULL itself. Tables stay
     * valid until `finish` returns; call their functions with this same `host`.
     */
    const void *(*get_extension)(const struct ph_master_host *host, const char *id);
} ph_master_host;

/** Parameters of `master_open`. */
typedef struct ph_open_params {
    /** The plugin's own arguments (argv[0] is the plugin name). */
    int argc;
    const char *const *argv;
    /** The effective policy: the descriptor's default unless the user overrode it. */
    ph_policy policy;
    /** How many workers the run may use at once (the user's -j). */
    uint32_t max_workers;
} ph_open_params;

/** Where `master_open` reports a usage error. */
typedef struct ph_error_sink {
    void *host_data;
    /** Records a one-line error message (copied). */
    void (*set_error)(const struct ph_error_sink *sink, const char *message);
} ph_error_sink;

/** Where `request_of_task` writes the request. */
typedef struct ph_request_sink {
    void *host_data;
    /** Sets the request bytes (copied). Call once. */
    void (*set_request)(const struct ph_request_sink *sink, const void *data, size_t len);
    /** Reports that the request could not be encoded; the host calls `on_marshal_error`. */
    void (*set_marshal_error)(const struct ph_request_sink *sink, const char *message);
} ph_request_sink;

/** What `request_of_task` says. */
typedef enum ph_request_result {
    /** A request was written to the sink (or a marshal error was reported). */
    PH_REQUEST_READY = 0,
    /** The task is no longer valid: it ends with the outcome `skipped`. */
    PH_REQUEST_OBSOLETE = 1,
} ph_request_result;

/**
 * Where `use_response` (and the loss and marshal-error callbacks) record their decisions.
 * Decisions not made keep their defaults: the worker ends, the task is done.
 */
typedef struct ph_response_sink {
    void *host_data;
    /** Keeps the worker alive as Old(competence) (copied). Without it the worker ends. */
    void (*stay)(const struct ph_response_sink *sink, const void *competence, size_t len);
    /**
     * Queues a follow-up task (copied) that inherits the parent's cancellation. It is offered to
     * this worker first, so a `task_match` that accepts only this worker's competence pins it.
     */
    void (*push_task)(const struct ph_response_sink *sink, const void *task, size_t len,
                      int32_t priority);
    /**
     * Sets the task's outcome. In `use_response` the default is DONE. In `on_task_lost` and
     * `on_marshal_error`, calling it resolves the task (e.g. after running it in the master);
     * not calling it lets the host retry, then fail the task with the reason.
     */
    void (*resolve)(const struct ph_response_sink *sink, ph_outcome outcome, const char *message);
} ph_response_sink;

/** Where `finish` writes the final report. */
typedef struct ph_report_sink {
    void *host_data;
    /** Appends text (copied) to the report the host prints at the end of the run. */
    void (*write)(const struct ph_report_sink *sink, const char *text);
    /** Sets the run's exit status (0 when not called: the host derives it from the outcomes). */
    void (*set_exit_status)(const struct ph_report_sink *sink, int32_t status);
} ph_report_sink;

/** Where `name_of_task` / `name_of_request` write a short human-readable name. */
typedef struct ph_name_sink {
    void *host_data;
    void (*set_name)(const struct ph_name_sink *sink, const char *name);
} ph_name_sink;

/** Counts handed to `finish`. */
typedef struct ph_run_summary {
    uint64_t done, failed, cancelled, expired, skipped;
} ph_run_summary;

/* ------------------------------------------------------------------------------------------ */
/* Host services for the worker side                                                          */
/* ------------------------------------------------------------------------------------------ */

/** Services offered to `perform` for one request. */
typedef struct ph_perform_context {
    void *host_data;
    /** Sets the response bytes (copied). Call once per request. */
    void (*respond)(const struct ph_perform_context *ctx, const void *data, size_t len);
    /** Streams one feedback message (copied) to the master, ahead of the response. */
    void (*feedback)(const struct ph_perform_context *ctx, const void *data, size_t len);
    /** 1 when the master asked this request to stop (cancellation): return soon. */
    int (*should_stop)(const struct ph_perform_context *ctx);
    /**
     * Reports that the request could not be decoded; the master treats it as a marshal error and
     * replaces the worker. An ordinary task failure that keeps the worker is `fail_task` of
     * "ph.task-failure/1" (ph/ext/task-failure.h).
     */
    void (*fail)(const struct ph_perform_context *ctx, const char *message);
    /**
     * Returns the table of a worker-side host extension by id (e.g. PH_EXT_BLOBS from
     * ph/ext/blobs.h), or NULL when the host does not offer it. Never NULL itself. Tables stay
     * valid for the life of the worker process; call their functions with the context of the
     * request being performed.
     */
    const void *(*get_extension)(const struct ph_perform_context *ctx, const char *id);
} ph_perform_context;

/** Parameters of `worker_init`, borrowed for that call. */
typedef struct ph_worker_params {
    /** The worker's name, `kind:slot:uid`, unique in the run. */
    const char *worker_name;
    /** Opaque host data; pass these parameters back to `get_extension`. */
    void *host_data;
    /**
     * Returns the table of a worker-side host extension offered at start-up by id, or NULL when
     * the host does not offer it there. Never NULL itself. Tables stay valid for the life of the
     * worker process (so `on_broadcast` and `worker_fini` may use them); the parameters do not.
     * ABI 2.0 offers no extension here: "ph.blobs/1" is reached through the perform context,
     * whose calls need a request. A NULL here says nothing about the perform context's offer.
     */
    const void *(*get_extension)(const struct ph_worker_params *params, const char *id);
} ph_worker_params;

/* ------------------------------------------------------------------------------------------ */
/* The descriptor                                                                             */
/* ------------------------------------------------------------------------------------------ */

/**
 * What a plugin is. The plugin fills it in `plugin_host_entry`; strings and function pointers
 * must stay valid for the life of the process (static storage). Optional callbacks may be NULL.
 * Frozen, like every struct here: new plugin capabilities come through `get_extension`.
 */
typedef struct ph_plugin_descriptor {
    /** Set to PH_ABI_VERSION_MAJOR / PH_ABI_VERSION_MINOR as compiled into the plugin. */
    uint32_t abi_major;
    uint32_t abi_minor;

    /** Short name used on the command line and in worker names: [a-z0-9_-]+. */
    const char *name;
    /** The plugin's own version, free form ("1.2.0"). */
    const char *version;
    /** One line saying what the task kind does. */
    const char *description;
    /** Usage text for the plugin's own arguments (shown by `plugin-host describe`). */
    const char *usage;
    /** The default worker policy; the user may override it with --policy. */
    ph_policy default_policy;

    /* ---- master side ---- */

    /**
     * Parses the plugin's arguments and queues the initial tasks through host->push_task.
     * Returns the master instance, or NULL after calling errors->set_error (a usage error).
     */
    void *(*master_open)(const ph_master_host *host, const ph_open_params *params,
                         const ph_error_sink *errors);
    /**
     * Optional. Called when workers are free and the queue is empty: push up to `max` more tasks.
     * Returns 1 while more tasks may come, 0 once the input is exhausted.
     */
    int (*pull)(void *master, uint32_t max);
    /** Optional (NULL: every task matches every worker). 1 if `task` suits a worker in `status`. */
    int (*task_match)(void *master, const ph_worker_status *status, ph_bytes task);
    /** Turns a task into a request for a worker in `status` (see ph_request_result). */
    ph_request_result (*request_of_task)(void *master, const ph_worker_status *status,
                                         ph_bytes task, const ph_request_sink *out);
    /** Judges a response: stay or end, follow-up tasks, outcome. */
    void (*use_response)(void *master, const ph_worker_status *status, ph_bytes task,
                         ph_bytes response, const ph_response_sink *out);
    /**
     * Optional. A request could not be encoded, a response did not decode, or a frame was
     * malformed. The worker is replaced. `out->resolve` may settle the task (e.g. run it in the
     * master); otherwise it fails with `message`.
     */
    void (*on_marshal_error)(void *master, const char *message, ph_bytes task,
                             const ph_response_sink *out);
    /**
     * Optional. A task was cancelled, expired, lost with its worker, or could not be started.
     * `task.data` is NULL only when there is no task (an idle worker died); a task whose bytes
     * are empty still has a non-NULL `data`. `will_retry` is 1 when the host is
     * about to retry the task on a fresh worker. `out->resolve` may settle the task.
     */
    void (*on_task_lost)(void *master, ph_bytes task, ph_loss_reason reason,
                         const char *message, int will_retry, const ph_response_sink *out);
    /** Optional. One feedback message from `worker_name`, in the order the worker sent them. */
    void (*forward_feedback)(void *master, const char *worker_name, ph_bytes feedback);
    /** Optional. Writes the final report and may set the exit status. Frees the instance. */
    void (*finish)(void *master, const ph_run_summary *summary, const ph_report_sink *out);
    /** Optional. A short name for a task, for logs and events. */
    void (*name_of_task)(void *master, ph_bytes task, const ph_name_sink *out);
    /** Optional. A short name for a request, for logs and events. */
    void (*name_of_request)(void *master, ph_bytes request, const ph_name_sink *out);

    /* ---- worker side ---- */

    /** Optional. Called once when the worker starts; returns the worker instance (may be NULL). */
    void *(*worker_init)(const ph_worker_params *params);
    /**
     * Performs one request. Responds through ctx->respond and returns 0, or calls ctx->fail and
     * returns non-zero, or fails the task and keeps the worker through "ph.task-failure/1"
     * (ph/ext/task-failure.h). Any crash here kills only this worker.
     */
    int (*perform)(void *worker, ph_bytes request, const ph_perform_context *ctx);
    /** Optional. A broadcast from the master, delivered between requests, in order. */
    void (*on_broadcast)(void *worker, ph_bytes feedback);

    /* ---- growth ---- */

    /**
     * Optional (NULL: the plugin offers no extension). Returns the table of a plugin-side
     * extension by id, or NULL if the plugin does not implement it.
     */
    const void *(*get_extension)(const char *id);

    /**
     * Optional. Called once when the master closes the worker's input, before the process exits:
     * release what `worker_init` made. The host does this to idle workers at the end of a run;
     * a worker retired between jobs (`end`, recycling) or one that crashes is killed instead.
     */
    void (*worker_fini)(void *worker);
} ph_plugin_descriptor;

/**
 * The entry point. The host passes the ABI version it was built with; the plugin fills `out`
 * (including its own abi_major / abi_minor) and returns 0, or returns non-zero if it refuses (a
 * plugin refusing another major version still sets abi_major / abi_minor, so the host can say
 * which versions differ).
 */
typedef int32_t (*ph_entry_fn)(uint32_t host_abi_major, uint32_t host_abi_minor,
                               ph_plugin_descriptor *out);

#ifdef __cplusplus
}
#endif

#endif /* PLUGIN_ABI_H */
