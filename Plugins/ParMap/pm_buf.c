/* pm_buf.c — growable byte buffer, little-endian helpers, digest, clock. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "pm_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void pm_buf_init(pm_buf *b) {
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void pm_buf_free(pm_buf *b) {
    free(b->p);
    pm_buf_init(b);
}

uint8_t *pm_buf_room(pm_buf *b, size_t extra) {
    if (b->failed) return NULL;
    if (extra > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return NULL;
    }
    size_t need = b->len + extra;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) cap *= 2;
        uint8_t *n = realloc(b->p, cap);
        if (n == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->p = n;
        b->cap = cap;
    }
    return b->p + b->len;
}

void pm_buf_add(pm_buf *b, const void *data, size_t n) {
    if (n == 0) return;
    uint8_t *room = pm_buf_room(b, n);
    if (room == NULL) return;
    memcpy(room, data, n);
    b->len += n;
}

void pm_buf_adds(pm_buf *b, const char *s) { pm_buf_add(b, s, strlen(s)); }

void pm_buf_add_u32(pm_buf *b, uint32_t v) {
    uint8_t *room = pm_buf_room(b, 4);
    if (room == NULL) return;
    pm_put_u32(room, v);
    b->len += 4;
}

void pm_buf_add_u64(pm_buf *b, uint64_t v) {
    uint8_t *room = pm_buf_room(b, 8);
    if (room == NULL) return;
    pm_put_u64(room, v);
    b->len += 8;
}

void pm_buf_printf(pm_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        pm_buf_add(b, small, (size_t)n);
        return;
    }
    uint8_t *room = pm_buf_room(b, (size_t)n + 1);
    if (room == NULL) return;
    va_start(ap, fmt);
    vsnprintf((char *)room, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

uint32_t pm_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t pm_get_u64(const uint8_t *p) {
    return (uint64_t)pm_get_u32(p) | (uint64_t)pm_get_u32(p + 4) << 32;
}

void pm_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void pm_put_u64(uint8_t *p, uint64_t v) {
    pm_put_u32(p, (uint32_t)v);
    pm_put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
        if (*p == 0) return h;
    }
}

uint64_t pm_digest(const char *lib, const char *sym, const char *sig) {
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, lib);
    h = fnv1a(h, sym);
    return fnv1a(h, sig);
}

uint64_t pm_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t pm_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
