/*
 * plain_loop.c — the single-process reference for the ParMap benchmark: the same work as a
 * parmap worker (parse a line, call a double(double) function, print the result, with the
 * plugin's own conversions from Plugins/ParMap/pm_number.c, compiled in), in one plain loop,
 * with the function called directly (no libffi, no processes).
 *
 *   plain_loop LIB SYMBOL INPUT OUTPUT     prints "items=N seconds=S rate=R" on stdout
 *   plain_loop --generate N OUTPUT         writes N doubles, one per line (the benchmark input)
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pm_number.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int generate(long n, const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL) return 1;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double x = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 2000.0; /* [-1000, 1000) */
        fprintf(f, "%.10g\n", x);
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--generate") == 0) return generate(atol(argv[2]), argv[3]);
    if (argc != 5) {
        fprintf(stderr, "usage: plain_loop LIB SYMBOL INPUT OUTPUT | --generate N OUTPUT\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "plain_loop: %s\n", dlerror());
        return 2;
    }
    double (*fn)(double);
    void *sym = dlsym(lib, argv[2]);
    if (sym == NULL) {
        fprintf(stderr, "plain_loop: %s\n", dlerror());
        return 2;
    }
    memcpy(&fn, &sym, sizeof sym);
    FILE *in = fopen(argv[3], "r");
    FILE *out = fopen(argv[4], "w");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "plain_loop: cannot open the input or the output\n");
        return 2;
    }
    static char inbuf[1 << 20], outbuf[1 << 20];
    setvbuf(in, inbuf, _IOFBF, sizeof inbuf);
    setvbuf(out, outbuf, _IOFBF, sizeof outbuf);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long items = 0;
    double t0 = now();
    while ((n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] == '\n') line[--n] = '\0';
        double x;
        if (n == 0 || pm_parse_double(line, (size_t)n, &x) != 0) {
            fprintf(out, "#error: line %ld: not a number\n", items + 1);
        } else {
            char text[32];
            size_t len = pm_write_double(fn(x), text);
            text[len++] = '\n';
            fwrite(text, 1, len, out);
        }
        items++;
    }
    fflush(out);
    double seconds = now() - t0;
    printf("items=%ld seconds=%.3f rate=%.0f\n", items, seconds, (double)items / seconds);
    free(line);
    fclose(in);
    fclose(out);
    return 0;
}
