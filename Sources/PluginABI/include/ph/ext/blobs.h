/*
 * ph/ext/blobs.h — extension "ph.blobs/1": files the workers need from the master's disk,
 * wherever they run.
 *
 * One id, two tables, as CLAP names one extension on both sides:
 *  - master side, `host->get_extension(host, PH_EXT_BLOBS)` returns a `ph_master_blobs`: the
 *    plugin publishes a file once, then puts a *reference* for each worker in that worker's
 *    requests;
 *  - worker side, `ctx->get_extension(ctx, PH_EXT_BLOBS)` returns a `ph_worker_blobs`: the worker
 *    opens the file a reference names.
 * A worker on the master's machine gets the master's open file (nothing is copied); a worker
 * elsewhere gets the content's SHA-256 and asks the master for the bytes only if its machine's
 * cache lacks them, so a file crosses the network once per machine, and a worker that already
 * holds what the file carries (its competence says so) needs no reference at all.
 * Frozen: a later version is a new id.
 */
#ifndef PH_EXT_BLOBS_H
#define PH_EXT_BLOBS_H

#include "../../plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension's id (its version is part of it). */
#define PH_EXT_BLOBS "ph.blobs/1"

/** The largest reference `ph_master_blobs.reference` writes. */
#define PH_BLOB_REFERENCE_MAX 256

/** The master-side table. Call with the same `host` it came from. */
typedef struct ph_master_blobs {
    /**
     * Offers the regular file open at `fd` to the workers. The host keeps its own duplicate of
     * the descriptor; the content must not change afterwards. Nothing is read now. Returns a
     * blob id (> 0), or 0 if the descriptor is unusable.
     */
    uint64_t (*publish_fd)(const ph_master_host *host, int fd);
    /**
     * Writes to `out` (room for `capacity` bytes, PH_BLOB_REFERENCE_MAX is enough) how the worker
     * named `worker` reaches blob `blob`; returns the reference's length, or 0 on failure (unknown
     * blob or worker, unreadable file). The first reference for a worker on another machine
     * hashes the file (once per blob).
     */
    size_t (*reference)(const ph_master_host *host, uint64_t blob, const char *worker, uint8_t *out,
                        size_t capacity);
} ph_master_blobs;

/** The worker-side table. Call with the context of the request being performed. */
typedef struct ph_worker_blobs {
    /**
     * Opens the blob `reference` names, read-only, during `perform`. Returns a descriptor the
     * plugin owns (and closes), or -1 with a one-line reason in `error` (room for `error_capacity`
     * bytes). May block while the content comes from the master; the content is verified against
     * its digest before it is used or cached.
     */
    int (*open)(const ph_perform_context *ctx, const uint8_t *reference, size_t length, char *error,
                size_t error_capacity);
} ph_worker_blobs;

#ifdef __cplusplus
}
#endif

#endif /* PH_EXT_BLOBS_H */
