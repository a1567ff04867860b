/*
 * pm_checkpoint.c — ParMap's journal checkpoint ("ph.checkpoint/1"). With ordered output to a
 * regular file, every line before a chunk boundary is in the output once written: a checkpoint
 * records that boundary (input offset and line, output offset), a digest of the output's last
 * bytes before it, and the report's counts up to it. A resumed run checks the output against it,
 * cuts the output there, and reads the input from there: no response is journaled, nothing is
 * written twice.
 *
 *   u32 magic "PMC1" | u64 input_offset | u64 next_line | u64 output_offset | u64 tail_digest |
 *   12 x u64 counts | u32 n_fails | n_fails x (u64 line | u64 last_line | u32 len | message)
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "pm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PM_CHECKPOINT_MAGIC 0x31434d50u /* "PMC1" */
#define PM_TAIL_BYTES 4096

void pm_account_merge(pm_account *to, pm_account *from) {
    to->items += from->items;
    to->unrun_items += from->unrun_items;
    to->failed_items += from->failed_items;
    to->chunks += from->chunks;
    to->splits += from->splits;
    to->marshal_splits += from->marshal_splits;
    to->fresh_requests += from->fresh_requests;
    to->fresh_request_bytes += from->fresh_request_bytes;
    to->fresh_chunk_bytes += from->fresh_chunk_bytes;
    to->old_requests += from->old_requests;
    to->old_request_bytes += from->old_request_bytes;
    to->old_chunk_bytes += from->old_chunk_bytes;
    for (size_t i = 0; i < from->n_fails; i++) {
        if (to->n_fails < PM_KEPT_FAILURES)
            to->fails[to->n_fails++] = from->fails[i];
        else
            free(from->fails[i].message);
    }
    memset(from, 0, sizeof *from);
}

void pm_account_free(pm_account *a) {
    for (size_t i = 0; i < a->n_fails; i++) free(a->fails[i].message);
    a->n_fails = 0;
}

int pm_output_tail_digest(int fd, uint64_t offset, uint64_t *digest) {
    uint8_t tail[PM_TAIL_BYTES];
    size_t n = offset < PM_TAIL_BYTES ? (size_t)offset : PM_TAIL_BYTES;
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, tail + got, n - got, (off_t)(offset - n + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = ENODATA;
            return -1;
        }
        got += (size_t)k;
    }
    *digest = pm_fnv1a(0xcbf29ce484222325ull ^ offset, tail, n);
    return 0;
}

static void add_counts(pm_buf *b, const pm_account *a) {
    const uint64_t v[12] = {a->items, a->unrun_items, a->failed_items, a->chunks, a->splits,
                            a->marshal_splits, a->fresh_requests, a->fresh_request_bytes,
                            a->fresh_chunk_bytes, a->old_requests, a->old_request_bytes,
                            a->old_chunk_bytes};
    for (int i = 0; i < 12; i++) pm_buf_add_u64(b, v[i]);
}

void pm_checkpoint_encode(pm_buf *b, const pm_checkpoint *c, const pm_account *a) {
    b->len = 0;
    pm_buf_add_u32(b, PM_CHECKPOINT_MAGIC);
    pm_buf_add_u64(b, c->input_offset);
    pm_buf_add_u64(b, c->next_line);
    pm_buf_add_u64(b, c->output_offset);
    pm_buf_add_u64(b, c->tail_digest);
    add_counts(b, a);
    pm_buf_add_u32(b, (uint32_t)a->n_fails);
    for (size_t i = 0; i < a->n_fails; i++) {
        size_t len = strlen(a->fails[i].message);
        pm_buf_add_u64(b, a->fails[i].line);
        pm_buf_add_u64(b, a->fails[i].last_line);
        pm_buf_add_u32(b, (uint32_t)len);
        pm_buf_add(b, a->fails[i].message, len);
    }
}

int pm_checkpoint_decode(ph_bytes b, pm_checkpoint *c, pm_account *a) {
    const uint8_t *p = b.data, *end = b.data + b.len;
    memset(a, 0, sizeof *a);
    if (b.len < 4 + 4 * 8 + 12 * 8 + 4 || pm_get_u32(p) != PM_CHECKPOINT_MAGIC) return -1;
    p += 4;
    c->input_offset = pm_get_u64(p);
    c->next_line = pm_get_u64(p + 8);
    c->output_offset = pm_get_u64(p + 16);
    c->tail_digest = pm_get_u64(p + 24);
    p += 32;
    uint64_t *v[12] = {&a->items, &a->unrun_items, &a->failed_items, &a->chunks, &a->splits,
                       &a->marshal_splits, &a->fresh_requests, &a->fresh_request_bytes,
                       &a->fresh_chunk_bytes, &a->old_requests, &a->old_request_bytes,
                       &a->old_chunk_bytes};
    for (int i = 0; i < 12; i++, p += 8) *v[i] = pm_get_u64(p);
    uint32_t n = pm_get_u32(p);
    p += 4;
    if (n > PM_KEPT_FAILURES || c->next_line < 1) return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < 20) goto bad;
        uint32_t len = pm_get_u32(p + 16);
        if ((size_t)(end - p - 20) < len) goto bad;
        char *message = malloc((size_t)len + 1);
        if (message == NULL) goto bad;
        memcpy(message, p + 20, len);
        message[len] = '\0';
        a->fails[i] = (pm_failure){pm_get_u64(p), pm_get_u64(p + 8), message};
        a->n_fails = i + 1;
        p += 20 + (size_t)len;
    }
    if (p == end) return 0;
bad:
    pm_account_free(a);
    return -1;
}
