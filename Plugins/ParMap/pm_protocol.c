/* pm_protocol.c — task, request and response bytes (formats in include/parmap.h). */
#include "pm_internal.h"

#include <string.h>

int pm_task_decode(ph_bytes b, pm_task_view *t) {
    if (b.data == NULL || b.len < PM_TASK_HEADER) return -1;
    t->first_line = pm_get_u64(b.data);
    t->n_lines = pm_get_u32(b.data + 8);
    t->data = b.data + PM_TASK_HEADER;
    t->len = b.len - PM_TASK_HEADER;
    return t->n_lines > 0 ? 0 : -1;
}

void pm_task_encode(pm_buf *b, uint64_t first_line, uint32_t n_lines, const void *data,
                    size_t len) {
    b->len = 0;
    uint8_t *room = pm_buf_room(b, PM_TASK_HEADER + len);
    if (room == NULL) return;
    pm_put_u64(room, first_line);
    pm_put_u32(room + 8, n_lines);
    if (len > 0) memcpy(room + PM_TASK_HEADER, data, len);
    b->len = PM_TASK_HEADER + len;
}

int pm_request_decode(ph_bytes b, pm_request_view *r) {
    memset(r, 0, sizeof *r);
    if (b.data == NULL || b.len < PM_REQUEST_HEADER) return -1;
    const uint8_t *p = b.data;
    if (p[0] != 'F' && p[0] != 'O') return -1;
    r->fresh = p[0] == 'F';
    r->digest = pm_get_u64(p + 4);
    r->first_line = pm_get_u64(p + 12);
    size_t off = PM_REQUEST_HEADER;
    if (r->fresh) {
        if (b.len - off < PM_REQUEST_SETUP) return -1;
        r->lib_len = pm_get_u32(p + off);
        r->sym_len = pm_get_u32(p + off + 4);
        r->sig_len = pm_get_u32(p + off + 8);
        off += PM_REQUEST_SETUP;
        uint64_t strings = (uint64_t)r->lib_len + r->sym_len + r->sig_len;
        if (strings > b.len - off) return -1;
        r->lib = (const char *)p + off;
        r->sym = r->lib + r->lib_len;
        r->sig = r->sym + r->sym_len;
        off += (size_t)strings;
        if (p[1] == 1) { /* a blob reference to the library follows */
            if (b.len - off < 4) return -1;
            r->blob_len = pm_get_u32(p + off);
            off += 4;
            if (r->blob_len > b.len - off) return -1;
            r->blob = p + off;
            off += r->blob_len;
        }
    }
    r->chunk = p + off;
    r->chunk_len = b.len - off;
    return 0;
}

void pm_request_encode(pm_buf *b, uint64_t digest, const pm_task_view *t, const char *lib,
                       const char *sym, const char *sig, const uint8_t *blob, size_t blob_len) {
    b->len = 0;
    int fresh = lib != NULL;
    size_t ll = fresh ? strlen(lib) : 0, sl = fresh ? strlen(sym) : 0,
           gl = fresh ? strlen(sig) : 0;
    size_t bl = fresh && blob != NULL ? 4 + blob_len : 0;
    size_t total = PM_REQUEST_HEADER + (fresh ? PM_REQUEST_SETUP + ll + sl + gl : 0) + bl + t->len;
    uint8_t *p = pm_buf_room(b, total);
    if (p == NULL) return;
    memset(p, 0, PM_REQUEST_HEADER);
    p[0] = fresh ? 'F' : 'O';
    p[1] = bl > 0 ? 1 : 0;
    pm_put_u64(p + 4, digest);
    pm_put_u64(p + 12, t->first_line);
    size_t off = PM_REQUEST_HEADER;
    if (fresh) {
        pm_put_u32(p + off, (uint32_t)ll);
        pm_put_u32(p + off + 4, (uint32_t)sl);
        pm_put_u32(p + off + 8, (uint32_t)gl);
        off += PM_REQUEST_SETUP;
        memcpy(p + off, lib, ll);
        off += ll;
        memcpy(p + off, sym, sl);
        off += sl;
        memcpy(p + off, sig, gl);
        off += gl;
        if (bl > 0) {
            pm_put_u32(p + off, (uint32_t)blob_len);
            memcpy(p + off + 4, blob, blob_len);
            off += bl;
        }
    }
    if (t->len > 0) memcpy(p + off, t->data, t->len);
    b->len = total;
}

int pm_response_decode(ph_bytes b, pm_response_view *r) {
    memset(r, 0, sizeof *r);
    if (b.data == NULL || b.len < PM_RESPONSE_HEADER) return -1;
    const uint8_t *p = b.data;
    r->n_items = pm_get_u32(p);
    r->n_errors = pm_get_u32(p + 4);
    r->elapsed_ns = pm_get_u64(p + 8);
    r->request_len = pm_get_u64(p + 16);
    r->chunk_len = pm_get_u32(p + 24);
    r->had_setup = p[28] != 0;
    uint32_t out_len = pm_get_u32(p + 32);
    /* p[36..40): reserved, zero */
    if (out_len > b.len - PM_RESPONSE_HEADER) return -1;
    r->out = p + PM_RESPONSE_HEADER;
    r->out_len = out_len;
    r->errors = r->out + out_len;
    r->errors_len = b.len - PM_RESPONSE_HEADER - out_len;
    /* Check every error record now, so iterating cannot run past the end. */
    size_t off = 0;
    for (uint32_t i = 0; i < r->n_errors; i++) {
        if (r->errors_len - off < 12) return -1;
        uint32_t len = pm_get_u32(r->errors + off + 8);
        if (len > r->errors_len - off - 12) return -1;
        off += 12 + (size_t)len;
    }
    return off == r->errors_len ? 0 : -1;
}

void pm_response_encode(pm_buf *b, const pm_chunk_output *c, uint64_t elapsed_ns,
                        uint64_t request_len, uint32_t chunk_len, int had_setup) {
    b->len = 0;
    size_t total = PM_RESPONSE_HEADER + c->out.len + c->errors.len;
    uint8_t *p = pm_buf_room(b, total);
    if (p == NULL) return;
    memset(p, 0, PM_RESPONSE_HEADER);
    pm_put_u32(p, c->n_items);
    pm_put_u32(p + 4, c->n_errors);
    pm_put_u64(p + 8, elapsed_ns);
    pm_put_u64(p + 16, request_len);
    pm_put_u32(p + 24, chunk_len);
    p[28] = had_setup ? 1 : 0;
    pm_put_u32(p + 32, (uint32_t)c->out.len);
    if (c->out.len > 0) memcpy(p + PM_RESPONSE_HEADER, c->out.p, c->out.len);
    if (c->errors.len > 0) memcpy(p + PM_RESPONSE_HEADER + c->out.len, c->errors.p, c->errors.len);
    b->len = total;
}

int pm_response_next_error(const pm_response_view *r, size_t *off, uint64_t *line,
                           const char **msg, uint32_t *msg_len) {
    if (*off + 12 > r->errors_len) return 0;
    *line = pm_get_u64(r->errors + *off);
    *msg_len = pm_get_u32(r->errors + *off + 8);
    *msg = (const char *)r->errors + *off + 12;
    *off += 12 + (size_t)*msg_len;
    return 1;
}
