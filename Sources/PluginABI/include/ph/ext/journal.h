/*
 * ph/ext/journal.h — extension "ph.journal/1": what a task kind says about the run journal
 * (`plugin-host run --journal FILE`, `--resume FILE`).
 *
 * Plugin side: the descriptor's `get_extension(PH_EXT_JOURNAL)` returns a `ph_plugin_journal`,
 * or NULL. Frozen: a later version is a new id. Added in ABI 2.2.
 *
 * How the host replays a run: it journals, for each task that ends, a key (the task's position
 * in the order the master side produced it: the n-th task pushed by `master_open` / `pull`, or the
 * n-th task pushed while the host judged task K), the outcome, and what `use_response` consumed
 * (the worker's status and name, the feedback forwarded for the task, the response bytes). On
 * `--resume`, the master side is opened again with the same arguments; each task it produces
 * whose key the journal records as ended is not run: the host calls `forward_feedback` and
 * `use_response` with the journaled bytes instead (a `stay` there keeps no worker; follow-ups it
 * pushes are keyed and replayed or run in turn). So a kind gets resume without persistence of
 * its own, provided that:
 *  - its master side produces the same tasks in the same order from the same arguments and
 *    input (`pull`'s `max` may differ between runs; the order may not depend on it), and pushes
 *    the same follow-ups from the same responses;
 *  - `use_response` depends only on the task, the status, the forwarded feedback and the
 *    response, not on the order in which tasks end.
 * A kind without this extension is taken to meet both. A kind that does not returns
 * `replayable` 0, and the host refuses `--journal` for it with the message it gives.
 * A kind whose responses' effect is durable in its own output can resume from checkpoints of
 * its own instead, with no response journaled: see ph/ext/checkpoint.h.
 */
#ifndef PH_EXT_JOURNAL_H
#define PH_EXT_JOURNAL_H

#include "../../plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension's id (its version is part of it). */
#define PH_EXT_JOURNAL "ph.journal/1"

/** The plugin-side table. Both calls are made after `master_open`, with the master instance. */
typedef struct ph_plugin_journal {
    /**
     * Optional (NULL: replayable). 1 if this instance, as opened, can be replayed; 0 after
     * calling `why->set_error` with one line saying why not (e.g. "adaptive chunks differ from
     * run to run: give --chunk N"): `--journal` is then refused with it.
     */
    int (*replayable)(void *master, const ph_error_sink *why);
    /**
     * Optional. Bytes that identify the kind's inputs beyond its arguments (e.g. a digest of the
     * files it reads), written through `out->set_request` (the request sink reused as a byte
     * sink). The host records them in the journal's header and refuses a `--resume` whose bytes
     * differ ("the kind's input differs").
     */
    void (*identity)(void *master, const ph_request_sink *out);
} ph_plugin_journal;

#ifdef __cplusplus
}
#endif

#endif /* PH_EXT_JOURNAL_H */
