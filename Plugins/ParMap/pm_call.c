/* pm_call.c — prepare a C function once (dlopen, dlsym, ffi_prep_cif), then call it per line. */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* RTLD_* on older glibc headers */
#endif

#include "pm_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

int pm_function_open(pm_function *f, const char *lib, const char *sym, const char *sig_text,
                     char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    if (pm_signature_parse(sig_text, &f->sig, err, errlen) != 0) return -1;
    dlerror();
    f->handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (f->handle == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "cannot load library '%.300s': %.400s", lib,
                 why != NULL ? why : "unknown error");
        return -1;
    }
    dlerror();
    void *p = dlsym(f->handle, sym);
    const char *why = dlerror();
    if (why != NULL || p == NULL) {
        snprintf(err, errlen, "symbol '%.200s' not found in '%.300s'%s%.400s", sym, lib,
                 why != NULL ? ": " : "", why != NULL ? why : "");
        dlclose(f->handle);
        f->handle = NULL;
        return -1;
    }
    memcpy(&f->fn, &p, sizeof p); /* object pointer to function pointer, as POSIX allows */
    unsigned k = 0;
    for (int i = 0; i < f->sig.nargs; i++) {
        f->ffi_args[k++] = pm_ffi_type(f->sig.args[i]);
        if (f->sig.args[i] == PM_BYTES) f->ffi_args[k++] = &ffi_type_uint64; /* size_t */
    }
    f->n_ffi_args = k;
    ffi_status st = ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, k, pm_ffi_type(f->sig.ret), f->ffi_args);
    if (st != FFI_OK) {
        snprintf(err, errlen, "libffi cannot prepare a call of '%.200s' (status %d)", sig_text,
                 (int)st);
        dlclose(f->handle);
        f->handle = NULL;
        return -1;
    }
    return 0;
}

const char *pm_function_file(const pm_function *f) {
    struct link_map *map = NULL;
    if (f->handle == NULL || dlinfo(f->handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL)
        return NULL;
    return map->l_name != NULL && map->l_name[0] != '\0' ? map->l_name : NULL;
}

void pm_function_close(pm_function *f) {
    if (f->handle != NULL) dlclose(f->handle);
    f->handle = NULL;
    f->fn = NULL;
}

/* Records a failed item: its marker line in the output, a record in the error list. */
static void item_error(pm_chunk_output *r, uint64_t line, const char *msg, size_t msg_len) {
    pm_buf_printf(&r->out, "#error: line %llu: ", (unsigned long long)line);
    pm_buf_add(&r->out, msg, msg_len);
    pm_buf_add(&r->out, "\n", 1);
    pm_buf_add_u64(&r->errors, line);
    pm_buf_add_u32(&r->errors, (uint32_t)msg_len);
    pm_buf_add(&r->errors, msg, msg_len);
    r->n_errors++;
}

static void field_error(pm_chunk_output *r, uint64_t line, int index, pm_type t, const char *why,
                        const char *text, size_t len) {
    pm_buf msg;
    pm_buf_init(&msg);
    pm_buf_printf(&msg, "field %d (%s): %s: '", index + 1, pm_type_name(t), why);
    pm_buf_add_clipped(&msg, text, len, 60);
    pm_buf_add(&msg, "'", 1);
    item_error(r, line, (const char *)msg.p, msg.len);
    pm_buf_free(&msg);
}

void pm_run_chunk(const pm_function *f, char *data, size_t len, uint64_t first_line,
                  pm_chunk_output *r) {
    r->out.len = 0;
    r->errors.len = 0;
    r->n_items = 0;
    r->n_errors = 0;
    const int nargs = f->sig.nargs;
    pm_value values[PM_MAX_ARGS];
    void *avalues[2 * PM_MAX_ARGS];
    unsigned k = 0;
    for (int i = 0; i < nargs; i++) {
        if (f->sig.args[i] == PM_BYTES) {
            avalues[k++] = &values[i].bytes.p;
            avalues[k++] = &values[i].bytes.n;
        } else {
            avalues[k++] = &values[i];
        }
    }
    union {
        ffi_arg word;
        double d;
        void *p;
        uint64_t wide[2];
    } ret;
    char *p = data;
    char *end = data + len;
    uint64_t line = first_line;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl != NULL ? nl : end;
        char *next = nl != NULL ? nl + 1 : end;
        if (line_end > p && line_end[-1] == '\r') line_end--;
        *line_end = '\0'; /* the spare byte after the data covers a last line without '\n' */
        r->n_items++;
        /* Split into fields in place. */
        int ok = 1;
        if (nargs == 0) {
            if (line_end != p) {
                pm_buf msg;
                pm_buf_init(&msg);
                pm_buf_printf(&msg, "expected an empty line (no arguments), got '");
                pm_buf_add_clipped(&msg, p, (size_t)(line_end - p), 60);
                pm_buf_add(&msg, "'", 1);
                item_error(r, line, (const char *)msg.p, msg.len);
                pm_buf_free(&msg);
                ok = 0;
            }
        } else {
            /* Count the fields first: a wrong count is reported as such, not as a bad value. */
            char *fields[PM_MAX_ARGS];
            size_t lens[PM_MAX_ARGS];
            int count = 0;
            char *field = p;
            for (;;) {
                char *tab = memchr(field, '\t', (size_t)(line_end - field));
                char *fend = tab != NULL ? tab : line_end;
                if (count < nargs) {
                    fields[count] = field;
                    lens[count] = (size_t)(fend - field);
                }
                count++;
                if (tab == NULL) break;
                field = tab + 1;
            }
            if (count != nargs) {
                char msg[96];
                int n = snprintf(msg, sizeof msg, "expected %d field%s, got %d", nargs,
                                 nargs == 1 ? "" : "s", count);
                item_error(r, line, msg, (size_t)n);
                ok = 0;
            } else {
                for (int i = 0; i < nargs; i++) {
                    const char *why;
                    fields[i][lens[i]] = '\0';
                    if (pm_parse_field(f->sig.args[i], fields[i], lens[i], &values[i], &why) != 0) {
                        field_error(r, line, i, f->sig.args[i], why, fields[i], lens[i]);
                        ok = 0;
                        break;
                    }
                }
            }
        }
        if (ok) {
            ret.wide[0] = ret.wide[1] = 0;
            ffi_call((ffi_cif *)&f->cif, f->fn, &ret, avalues);
            pm_format_result(f->sig.ret, &ret, &r->out);
            pm_buf_add(&r->out, "\n", 1);
        }
        line++;
        p = next;
    }
}
