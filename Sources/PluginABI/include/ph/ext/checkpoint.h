/*
 * ph/ext/checkpoint.h — extension "ph.checkpoint/1": a task kind whose effect is durable in its
 * own output resumes from a checkpoint instead of having its responses replayed.
 *
 * With "ph.journal/1" alone, the host journals every response `use_response` consumed and, on
 * `--resume`, feeds them to `use_response` again: the journal is as large as the responses, and a
 * kind that writes them to a file writes that file again. A kind with this extension instead
 * records, through the host's table, a small checkpoint of its own: what it has written so far
 * (e.g. offset, length and a digest of its output) and the state its final report needs. The
 * host journals the kind's checkpoints and no response bytes, and journals none of its task ends.
 * On `--resume` it hands the kind's last whole checkpoint to `resume`, which checks its output
 * against it, drops what lies past it, and makes the kind produce only the tasks after it. A task
 * that ended after the last checkpoint runs again. Frozen: a later version is a new id. Added in
 * ABI 2.3.
 *
 * Rules for the kind:
 *  - a checkpoint claims only effects already written (`write` returned); the host makes each
 *    file named by `sync_with_journal` durable (fdatasync) before the journal records that follow;
 *  - its `master_open` pushes no task (tasks come from `pull`, after `resume`), and it writes
 *    nothing over its output before its first `pull` (a refused resume leaves the output as it was);
 *  - from a checkpoint, it produces the same remaining tasks, and the same final report, as the
 *    run that recorded it would have.
 */
#ifndef PH_EXT_CHECKPOINT_H
#define PH_EXT_CHECKPOINT_H

#include "../../plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension's id (its version is part of it), for both tables. */
#define PH_EXT_CHECKPOINT "ph.checkpoint/1"

/** The plugin-side table (descriptor `get_extension(PH_EXT_CHECKPOINT)`). Called with the master instance. */
typedef struct ph_plugin_checkpoint {
    /**
     * Optional (NULL: yes). 1 if this instance, as opened, resumes from checkpoints; 0 to be
     * journaled by its responses instead (e.g. an output that is not a regular file).
     * Asked once, after `master_open`, when the run keeps a journal.
     */
    int (*checkpointed)(void *master);
    /**
     * On `--resume`, after `master_open` and before the first `pull`: the kind's last checkpoint
     * (`checkpoint.len` 0: none was recorded; start from the beginning). Returns 1, or 0 after
     * `why->set_error` with one line naming the file and what differs: the run is then refused
     * (exit 2) and the journal left untouched.
     */
    int (*resume)(void *master, ph_bytes checkpoint, const ph_error_sink *why);
} ph_plugin_checkpoint;

/** The host-side table (`host->get_extension(host, PH_EXT_CHECKPOINT)`). Call with the same `host`. */
typedef struct ph_master_checkpoint {
    /** 1 when the run keeps a journal (checkpoints are recorded), else 0: no need to make any. */
    int (*journaled)(const ph_master_host *host);
    /**
     * Journals a checkpoint: `len` bytes the kind's `resume` understands. Only the last one counts;
     * call it from a master callback, after writing what it claims.
     */
    void (*record)(const ph_master_host *host, const void *data, size_t len);
    /**
     * The host makes `fd` durable (fdatasync) before each sync of the journal, so that no durable
     * checkpoint claims output the disk may lose. The host keeps its own duplicate of `fd`.
     */
    void (*sync_with_journal)(const ph_master_host *host, int fd);
} ph_master_checkpoint;

#ifdef __cplusplus
}
#endif

#endif /* PH_EXT_CHECKPOINT_H */
