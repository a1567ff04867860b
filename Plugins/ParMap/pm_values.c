/* pm_values.c — one text field into a C value, one C result into text. */
#include "pm_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal digits with an optional sign; fails on overflow of the magnitude. */
static int parse_decimal(const char *s, size_t len, int *negative, uint64_t *magnitude) {
    size_t i = 0;
    *negative = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        *negative = s[0] == '-';
        i = 1;
    }
    if (i == len) return -1;
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return -1;
        if (v > (UINT64_MAX - d) / 10) return -2;
        v = v * 10 + d;
    }
    *magnitude = v;
    return 0;
}

static int parse_signed(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out,
                        const char **why) {
    int neg;
    uint64_t mag;
    int rc = parse_decimal(s, len, &neg, &mag);
    if (rc == -1) {
        *why = "not a decimal integer";
        return -1;
    }
    int64_t v;
    if (rc == -2 || (!neg && mag > (uint64_t)INT64_MAX) ||
        (neg && mag > (uint64_t)INT64_MAX + 1)) {
        *why = "out of range";
        return -1;
    }
    v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (v < lo || v > hi) {
        *why = "out of range";
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_unsigned(const char *s, size_t len, uint64_t hi, uint64_t *out,
                          const char **why) {
    int neg;
    uint64_t mag;
    int rc = parse_decimal(s, len, &neg, &mag);
    if (rc == -1 || (len > 0 && s[0] == '+')) {
        *why = "not a decimal integer";
        return -1;
    }
    if (rc == -2 || mag > hi || (neg && mag != 0)) {
        *why = "out of range";
        return -1;
    }
    *out = mag;
    return 0;
}

static int hex_digit(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

int pm_parse_field(pm_type t, char *s, size_t len, pm_value *v, const char **why) {
    int64_t iv;
    uint64_t uv;
    char *end;
    switch (t) {
    case PM_I8:
        if (parse_signed(s, len, INT8_MIN, INT8_MAX, &iv, why) != 0) return -1;
        v->i8 = (int8_t)iv;
        return 0;
    case PM_I16:
        if (parse_signed(s, len, INT16_MIN, INT16_MAX, &iv, why) != 0) return -1;
        v->i16 = (int16_t)iv;
        return 0;
    case PM_I32:
        if (parse_signed(s, len, INT32_MIN, INT32_MAX, &iv, why) != 0) return -1;
        v->i32 = (int32_t)iv;
        return 0;
    case PM_I64:
        if (parse_signed(s, len, INT64_MIN, INT64_MAX, &iv, why) != 0) return -1;
        v->i64 = iv;
        return 0;
    case PM_U8:
        if (parse_unsigned(s, len, UINT8_MAX, &uv, why) != 0) return -1;
        v->u8 = (uint8_t)uv;
        return 0;
    case PM_U16:
        if (parse_unsigned(s, len, UINT16_MAX, &uv, why) != 0) return -1;
        v->u16 = (uint16_t)uv;
        return 0;
    case PM_U32:
        if (parse_unsigned(s, len, UINT32_MAX, &uv, why) != 0) return -1;
        v->u32 = (uint32_t)uv;
        return 0;
    case PM_U64:
        if (parse_unsigned(s, len, UINT64_MAX, &uv, why) != 0) return -1;
        v->u64 = uv;
        return 0;
    case PM_DOUBLE:
        if (len == 0 || is_space(s[0])) {
            *why = "not a number";
            return -1;
        }
        if (pm_parse_double(s, len, &v->d) != 0) {
            *why = "not a number";
            return -1;
        }
        return 0;
    case PM_FLOAT:
        if (len == 0 || is_space(s[0])) {
            *why = "not a number";
            return -1;
        }
        v->f = strtof(s, &end);
        if (end != s + len) {
            *why = "not a number";
            return -1;
        }
        return 0;
    case PM_BOOL:
        if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 1 && s[0] == '1')) {
            v->b = 1;
            return 0;
        }
        if ((len == 5 && memcmp(s, "false", 5) == 0) || (len == 1 && s[0] == '0')) {
            v->b = 0;
            return 0;
        }
        *why = "not a bool (true, false, 1 or 0)";
        return -1;
    case PM_STRING:
        /* The function would see the text up to the NUL only. */
        if (memchr(s, '\0', len) != NULL) {
            *why = "contains a NUL byte";
            return -1;
        }
        v->s = s;
        return 0;
    case PM_BYTES: {
        if (len % 2 != 0) {
            *why = "odd number of hex digits";
            return -1;
        }
        for (size_t i = 0; i < len; i++) {
            if (hex_digit((unsigned char)s[i]) < 0) { /* checked first: the text stays intact */
                *why = "not hexadecimal";
                return -1;
            }
        }
        uint8_t *outp = (uint8_t *)s;
        for (size_t i = 0; i < len; i += 2)
            outp[i / 2] = (uint8_t)(hex_digit((unsigned char)s[i]) << 4 |
                                    hex_digit((unsigned char)s[i + 1]));
        v->bytes.p = outp;
        v->bytes.n = len / 2;
        return 0;
    }
    case PM_VOID:
        break;
    }
    *why = "no value of type void";
    return -1;
}

/* Appends a decimal integer without printf. */
static void add_u64(pm_buf *out, uint64_t v, int negative) {
    char t[24];
    size_t i = sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (negative) t[--i] = '-';
    pm_buf_add(out, t + i, sizeof t - i);
}

static void add_i64(pm_buf *out, int64_t v) {
    if (v < 0)
        add_u64(out, 0 - (uint64_t)v, 1);
    else
        add_u64(out, (uint64_t)v, 0);
}

void pm_format_double(double d, pm_buf *out) {
    uint8_t *room = pm_buf_room(out, 32);
    if (room == NULL) return;
    out->len += pm_write_double(d, (char *)room);
}

void pm_format_result(pm_type t, const void *ret, pm_buf *out) {
    /* libffi widens integral results narrower than a register to ffi_arg / ffi_sarg. */
    ffi_sarg sv;
    ffi_arg uv;
    memcpy(&sv, ret, sizeof sv);
    memcpy(&uv, ret, sizeof uv);
    switch (t) {
    case PM_VOID: return;
    case PM_I8: add_i64(out, (int8_t)sv); return;
    case PM_I16: add_i64(out, (int16_t)sv); return;
    case PM_I32: add_i64(out, (int32_t)sv); return;
    case PM_I64: add_i64(out, (int64_t)sv); return;
    case PM_U8: add_u64(out, (uint8_t)uv, 0); return;
    case PM_U16: add_u64(out, (uint16_t)uv, 0); return;
    case PM_U32: add_u64(out, (uint32_t)uv, 0); return;
    case PM_U64: add_u64(out, (uint64_t)uv, 0); return;
    case PM_BOOL: pm_buf_adds(out, (uint8_t)uv ? "true" : "false"); return;
    case PM_DOUBLE: {
        double d;
        memcpy(&d, ret, sizeof d);
        pm_format_double(d, out);
        return;
    }
    case PM_FLOAT: {
        float f;
        memcpy(&f, ret, sizeof f);
        uint8_t *room = pm_buf_room(out, 32);
        if (room == NULL) return;
        int n = snprintf((char *)room, 32, "%.9g", (double)f);
        if (n > 0 && n < 32) out->len += (size_t)n;
        return;
    }
    case PM_STRING: {
        const char *s;
        memcpy(&s, ret, sizeof s);
        if (s == NULL)
            pm_buf_adds(out, "#null");
        else
            pm_buf_add_escaped(out, s, strlen(s));
        return;
    }
    case PM_BYTES: return; /* refused by the signature parser */
    }
}
