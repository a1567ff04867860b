/*
 * ph/ext/progress.h — extension "ph.progress/1": a task kind counts its own units of work.
 *
 * Master side only: `host->get_extension(host, PH_EXT_PROGRESS)` returns a `ph_master_progress`.
 * The host then shows the kind's units (proofs, items, ...) on its progress line, where tasks are
 * batches and a task count would say little. Frozen: a later version is a new id.
 */
#ifndef PH_EXT_PROGRESS_H
#define PH_EXT_PROGRESS_H

#include "../../plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension's id (its version is part of it). */
#define PH_EXT_PROGRESS "ph.progress/1"

/** The table `ph_master_host.get_extension(host, PH_EXT_PROGRESS)` returns. Call with the same `host`. */
typedef struct ph_master_progress {
    /** Declares the unit's name (plural, e.g. "proofs") and how many units the run has (0: not known). */
    void (*set_total)(const ph_master_host *host, const char *unit, uint64_t total);
    /** Counts `units` more units as done. */
    void (*advance)(const ph_master_host *host, uint64_t units);
} ph_master_progress;

#ifdef __cplusplus
}
#endif

#endif /* PH_EXT_PROGRESS_H */
