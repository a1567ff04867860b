/* pm_signature.c — "RET(ARG, ...)" and the libffi type of each argument. */
#include "pm_internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    pm_type type;
} TYPES[] = {
    {"void", PM_VOID},     {"int8", PM_I8},     {"int16", PM_I16},   {"int32", PM_I32},
    {"int64", PM_I64},     {"uint8", PM_U8},    {"uint16", PM_U16},  {"uint32", PM_U32},
    {"uint64", PM_U64},    {"float", PM_FLOAT}, {"double", PM_DOUBLE}, {"bool", PM_BOOL},
    {"string", PM_STRING}, {"bytes", PM_BYTES},
};

#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

const char *pm_type_name(pm_type t) {
    for (size_t i = 0; i < N_TYPES; i++)
        if (TYPES[i].type == t) return TYPES[i].name;
    return "?";
}

ffi_type *pm_ffi_type(pm_type t) {
    switch (t) {
    case PM_VOID: return &ffi_type_void;
    case PM_I8: return &ffi_type_sint8;
    case PM_I16: return &ffi_type_sint16;
    case PM_I32: return &ffi_type_sint32;
    case PM_I64: return &ffi_type_sint64;
    case PM_U8: return &ffi_type_uint8;
    case PM_U16: return &ffi_type_uint16;
    case PM_U32: return &ffi_type_uint32;
    case PM_U64: return &ffi_type_uint64;
    case PM_FLOAT: return &ffi_type_float;
    case PM_DOUBLE: return &ffi_type_double;
    case PM_BOOL: return &ffi_type_uint8; /* C _Bool: one byte, 0 or 1 */
    case PM_STRING: return &ffi_type_pointer;
    case PM_BYTES: return &ffi_type_pointer; /* followed by a size_t (see pm_call.c) */
    }
    return &ffi_type_void;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Reads one type name at *pp (after blanks); returns 0 and advances, or -1 with `bad` set. */
static int read_type(const char **pp, pm_type *out, const char **bad, size_t *bad_len) {
    const char *p = *pp;
    while (is_blank(*p)) p++;
    const char *start = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
           (*p >= 'A' && *p <= 'Z'))
        p++;
    size_t n = (size_t)(p - start);
    for (size_t i = 0; i < N_TYPES; i++) {
        if (strlen(TYPES[i].name) == n && memcmp(TYPES[i].name, start, n) == 0) {
            *out = TYPES[i].type;
            while (is_blank(*p)) p++;
            *pp = p;
            return 0;
        }
    }
    *bad = start;
    *bad_len = n;
    return -1;
}

int pm_signature_parse(const char *text, pm_signature *out, char *err, size_t errlen) {
    const char *p = text;
    const char *bad;
    size_t bad_len;
    memset(out, 0, sizeof *out);
    if (read_type(&p, &out->ret, &bad, &bad_len) != 0) {
        if (bad_len == 0)
            snprintf(err, errlen, "signature '%.200s': expected a result type, e.g. 'double(double)'",
                     text);
        else
            snprintf(err, errlen, "unknown type '%.*s' in signature '%.200s'", (int)bad_len, bad,
                     text);
        return -1;
    }
    if (out->ret == PM_BYTES) {
        snprintf(err, errlen,
                 "signature '%.200s': bytes is an argument type only (a C function cannot return "
                 "a pointer and a length)",
                 text);
        return -1;
    }
    if (*p != '(') {
        snprintf(err, errlen, "signature '%.200s': expected '(' after the result type", text);
        return -1;
    }
    p++;
    while (is_blank(*p)) p++;
    if (*p == ')') {
        p++;
    } else {
        for (;;) {
            pm_type t;
            if (read_type(&p, &t, &bad, &bad_len) != 0) {
                if (bad_len == 0)
                    snprintf(err, errlen, "signature '%.200s': expected an argument type at '%.40s'",
                             text, bad);
                else
                    snprintf(err, errlen, "unknown type '%.*s' in signature '%.200s'",
                             (int)bad_len, bad, text);
                return -1;
            }
            if (t == PM_VOID) {
                if (out->nargs == 0 && *p == ')') { /* T(void) */
                    p++;
                    break;
                }
                snprintf(err, errlen, "signature '%.200s': void is not an argument type", text);
                return -1;
            }
            if (out->nargs == PM_MAX_ARGS) {
                snprintf(err, errlen, "signature '%.200s': more than %d arguments", text,
                         PM_MAX_ARGS);
                return -1;
            }
            out->args[out->nargs++] = t;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == ')') {
                p++;
                break;
            }
            snprintf(err, errlen, "signature '%.200s': expected ',' or ')' at '%.40s'", text, p);
            return -1;
        }
    }
    while (is_blank(*p)) p++;
    if (*p != '\0') {
        snprintf(err, errlen, "signature '%.200s': unexpected text after ')': '%.40s'", text, p);
        return -1;
    }
    return 0;
}
