/* pm_worker.c — the worker side: prepare the function once (Fresh), then run chunks. */
#include "pm_internal.h"

#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

typedef struct pm_worker {
    pm_function fn;
    int ready;
    uint64_t digest;
    pm_buf copy; /* the chunk, copied so fields can be cut in place */
    pm_chunk_output result;
    pm_buf response;
} pm_worker;

static void *worker_init(const ph_worker_params *params) {
    (void)params;
    pm_worker *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    pm_buf_init(&w->copy);
    pm_buf_init(&w->result.out);
    pm_buf_init(&w->result.errors);
    pm_buf_init(&w->response);
    return w;
}

static void worker_fini(void *worker) {
    pm_worker *w = worker;
    if (w == NULL) return;
    if (w->ready) pm_function_close(&w->fn);
    pm_buf_free(&w->copy);
    pm_buf_free(&w->result.out);
    pm_buf_free(&w->result.errors);
    pm_buf_free(&w->response);
    free(w);
}

static char *dup_view(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d == NULL) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A Fresh request: dlopen, dlsym and ffi_prep_cif, once per worker. */
static int prepare(pm_worker *w, const pm_request_view *r, const ph_perform_context *ctx) {
    if (w->ready && w->digest == r->digest) return 0;
    if (w->ready) pm_function_close(&w->fn);
    w->ready = 0;
    char *lib = dup_view(r->lib, r->lib_len), *sym = dup_view(r->sym, r->sym_len),
         *sig = dup_view(r->sig, r->sig_len);
    char err[1024];
    int rc = -1;
    if (lib == NULL || sym == NULL || sig == NULL) {
        snprintf(err, sizeof err, "parmap: out of memory");
    } else {
        /* The master's path, unless this machine lacks it and the master sent the file. */
        char via_blob[64];
        const char *path = lib;
        int fd = -1;
        if (access(lib, R_OK) != 0 && r->blob_len > 0) {
            const ph_worker_blobs *blobs = ctx->get_extension(ctx, PH_EXT_BLOBS);
            char why[512] = "this host does not offer " PH_EXT_BLOBS;
            if (blobs != NULL) fd = blobs->open(ctx, r->blob, r->blob_len, why, sizeof why);
            if (fd < 0) {
                snprintf(err, sizeof err, "parmap: cannot load library '%.300s': not on this machine, and its copy from the master failed: %.400s", lib, why);
                path = NULL;
            } else {
                snprintf(via_blob, sizeof via_blob, "/proc/self/fd/%d", fd);
                path = via_blob;
            }
        }
        if (path != NULL && pm_function_open(&w->fn, path, sym, sig, err, sizeof err) == 0) {
            w->ready = 1;
            w->digest = r->digest;
            rc = 0;
        }
        if (fd >= 0) close(fd); /* dlopen keeps its own mapping */
    }
    if (rc != 0) ctx->fail(ctx, err);
    free(lib);
    free(sym);
    free(sig);
    return rc;
}

static int worker_perform(void *worker, ph_bytes request, const ph_perform_context *ctx) {
    pm_worker *w = worker;
    pm_request_view r;
    if (w == NULL) {
        ctx->fail(ctx, "parmap: worker_init failed");
        return 1;
    }
    if (pm_request_decode(request, &r) != 0) {
        ctx->fail(ctx, "parmap: malformed request");
        return 1;
    }
    if (r.fresh) {
        if (prepare(w, &r, ctx) != 0) return 1;
    } else if (!w->ready || w->digest != r.digest) {
        ctx->fail(ctx, "parmap: chunk for a function this worker has not prepared");
        return 1;
    }
    uint64_t t0 = pm_monotonic_ns();
    w->copy.len = 0;
    uint8_t *room = pm_buf_room(&w->copy, r.chunk_len + 1); /* +1: room for a final NUL */
    if (room == NULL) {
        ctx->fail(ctx, "parmap: out of memory");
        return 1;
    }
    if (r.chunk_len > 0) memcpy(room, r.chunk, r.chunk_len);
    pm_run_chunk(&w->fn, (char *)room, r.chunk_len, r.first_line, &w->result);
    uint64_t elapsed = pm_monotonic_ns() - t0;
    pm_response_encode(&w->response, &w->result, elapsed, request.len, (uint32_t)r.chunk_len,
                       r.fresh);
    if (w->result.out.failed || w->result.errors.failed || w->response.failed) {
        w->result.out.failed = w->result.errors.failed = w->response.failed = 0;
        ctx->fail(ctx, "parmap: out of memory");
        return 1;
    }
    ctx->respond(ctx, w->response.p, w->response.len);
    return 0;
}

void pm_fill_worker(ph_plugin_descriptor *d) {
    d->worker_init = worker_init;
    d->perform = worker_perform;
    d->worker_fini = worker_fini;
}
