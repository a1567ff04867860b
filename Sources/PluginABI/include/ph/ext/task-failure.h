/*
 * ph/ext/task-failure.h — extension "ph.task-failure/1": a worker says "this task failed" and
 * keeps going.
 *
 * Worker side only: `ctx->get_extension(ctx, PH_EXT_TASK_FAILURE)` returns a
 * `ph_worker_task_failure` (NULL from a host older than ABI 2.1: fall back to a failure status in
 * the response, or to `ctx->fail`). Frozen: a later version is a new id.
 *
 * A task failure is the plugin's verdict on one task, not a fault of the worker:
 *  - the task ends with the outcome FAILED and the plugin's message, in the events ("task ended",
 *    outcome failed), the results and the report, exactly as a `use_response` that resolves it
 *    FAILED would make it;
 *  - the worker is kept with its status unchanged: a Fresh worker stays Fresh, an Old one stays
 *    Old with the same competence. It counts as a job (the host's --max-jobs recycling counts it;
 *    the memory limit is checked as after a response);
 *  - the task is not retried: none of the master-side callbacks `use_response`,
 *    `on_marshal_error` and `on_task_lost` is called for it (the plugin decided already), so no
 *    follow-up is pushed, no competence changes and nothing is resolved in the master.
 * Compare `ctx->fail` (ABI 2.0): the request could not be served at all, the master sees a marshal
 * error, calls `on_marshal_error` and REPLACES the worker.
 *
 * The rule during `perform`: call `fail_task` (once; a later call replaces the message), then
 * return. Once it was called, the value `perform` returns and any `respond` of the same request
 * are ignored. Only `ctx->fail` overrides it: a request that called both is a marshal error.
 */
#ifndef PH_EXT_TASK_FAILURE_H
#define PH_EXT_TASK_FAILURE_H

#include "../../plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension's id (its version is part of it). */
#define PH_EXT_TASK_FAILURE "ph.task-failure/1"

/** The worker-side table. Call with the context of the request being performed. */
typedef struct ph_worker_task_failure {
    /**
     * Ends the request being performed as a failed task with `message` (one line, copied; NULL
     * gives "task failed"), keeping the worker. Only during `perform`.
     */
    void (*fail_task)(const ph_perform_context *ctx, const char *message);
} ph_worker_task_failure;

#ifdef __cplusplus
}
#endif

#endif /* PH_EXT_TASK_FAILURE_H */
