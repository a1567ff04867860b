/* fixture.c — see include/parmap_fixture.h. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "include/parmap_fixture.h"
#include "fixture_support.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double pmf_segv_on_13(double x) {
    if (x == 13) {
        volatile int *p = NULL;
        *p = 1;
    }
    return x * 2;
}

double pmf_alloc_on_13(double x) {
    if (x == 13) {
        for (int i = 0; i < 4096; i++) {
            char *block = malloc((size_t)1 << 20);
            if (block == NULL) abort();
            memset(block, 1, (size_t)1 << 20);
        }
    }
    return x * 2;
}

int64_t pmf_abort_on_7(int64_t x) {
    if (x == 7) abort();
    return x + 1;
}

int64_t pmf_exit_on_5(int64_t x) {
    if (x == 5) exit(3);
    return x;
}

double pmf_hang_on_99(double x) {
    if (x == 99)
        for (;;) pause();
    return x;
}

const char *pmf_upper(const char *s) {
    static _Thread_local char buf[4096];
    size_t i = 0;
    for (; s[i] != '\0' && i < sizeof buf - 1; i++)
        buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
    buf[i] = '\0';
    return buf;
}

int64_t pmf_length(const char *s) { return (int64_t)strlen(s); }

double pmf_mixed(int8_t a, uint16_t b, int64_t c, float d, double e, bool f, const char *g) {
    return (double)a + (double)b + (double)c + (double)d + e + (f ? 1000.0 : 0.0) +
           (double)strlen(g);
}

uint64_t pmf_bytes_checksum(const uint8_t *p, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (uint64_t)p[i] * (i + 1);
    return sum;
}

#ifndef PMF_WORK_ITERATIONS
#define PMF_WORK_ITERATIONS 640
#endif

double pmf_work_1us(double x) {
    double y = x;
    for (int i = 0; i < PMF_WORK_ITERATIONS; i++) y = y * 0.999999 + 1e-7;
    return y;
}

void pmf_nothing(int32_t x) { (void)x; }

float pmf_half(float x) { return x / 2; }

bool pmf_is_even(int64_t x) { return x % 2 == 0; }

int8_t pmf_neg8(int8_t x) { return (int8_t)-x; }

uint64_t pmf_max_u64(void) { return UINT64_MAX; }

const char *pmf_null(void) { return NULL; }

const char *pmf_escapes(void) { return "a\tb\nc\\d"; }

const char *pmf_controls(void) {
    return "a\x1b[2Jb\x07" "c\x7f" "d\xc3\xa9" "e\xc2\x9b" "f\xff" "g\xe2\x82";
}

const char *pmf_kill_master_once(const char *s) {
    static const char prefix[] = "kill-master:";
    if (strcmp(s, "segv") == 0) raise(SIGSEGV);
    if (strncmp(s, prefix, sizeof prefix - 1) == 0) {
        int fd = open(s + sizeof prefix - 1, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            close(fd);
            kill(fixture_master_pid(), SIGKILL); /* the worker then dies with its master */
            for (;;) pause();
        }
    }
    return s;
}
