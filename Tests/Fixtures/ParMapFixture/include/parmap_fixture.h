/*
 * parmap_fixture.h — functions the ParMap tests and benchmarks call through the parmap plugin.
 * libParMapFixture.so is an ordinary shared library (not a plugin): the host skips it.
 */
#ifndef PARMAP_FIXTURE_H
#define PARMAP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMF_EXPORT __attribute__((visibility("default")))

/* x * 2; dies with a real SIGSEGV (a store through NULL) when x == 13. */
PMF_EXPORT double pmf_segv_on_13(double x);
/* 2x, but on 13 allocates and touches 4 GiB in 1 MiB blocks first, aborting when an allocation
   fails: an out-of-memory death under --worker-memory. */
PMF_EXPORT double pmf_alloc_on_13(double x);
/* x + 1; calls abort() (SIGABRT) when x == 7. */
PMF_EXPORT int64_t pmf_abort_on_7(int64_t x);
/* x; calls exit(3) when x == 5. */
PMF_EXPORT int64_t pmf_exit_on_5(int64_t x);
/* x; never returns when x == 99 (a hang, for --timeout). */
PMF_EXPORT double pmf_hang_on_99(double x);
/* The string upper-cased (ASCII), in a per-thread buffer. */
PMF_EXPORT const char *pmf_upper(const char *s);
/* Returns its line; a line "kill-master:PATH" kills the master (SIGKILL; past a fork server) if it can create PATH,
   a line "segv" kills the worker (SIGSEGV). */
PMF_EXPORT const char *pmf_kill_master_once(const char *s);
/* strlen(s). */
PMF_EXPORT int64_t pmf_length(const char *s);
/* a + b + c + d + e + (f ? 1000 : 0) + strlen(g): every argument matters. */
PMF_EXPORT double pmf_mixed(int8_t a, uint16_t b, int64_t c, float d, double e, bool f,
                            const char *g);
/* Sum of the bytes times their position (1-based), so order and length matter. */
PMF_EXPORT uint64_t pmf_bytes_checksum(const uint8_t *p, size_t n);
/* About 1 µs of dependent floating-point work (release build), then a function of x. */
PMF_EXPORT double pmf_work_1us(double x);
/* Nothing (a void result prints an empty line). */
PMF_EXPORT void pmf_nothing(int32_t x);
/* x / 2 in single precision. */
PMF_EXPORT float pmf_half(float x);
/* x is even. */
PMF_EXPORT bool pmf_is_even(int64_t x);
/* -x, 8 bits (sign extension of small results). */
PMF_EXPORT int8_t pmf_neg8(int8_t x);
/* UINT64_MAX (no argument). */
PMF_EXPORT uint64_t pmf_max_u64(void);
/* NULL (prints #null). */
PMF_EXPORT const char *pmf_null(void);
/* "a<TAB>b<NEWLINE>c<BACKSLASH>d" (escaped in the output). */
PMF_EXPORT const char *pmf_escapes(void);
/* Control and non-UTF-8 bytes: "a" ESC "[2Jb" BEL "c" DEL "d" U+00E9 "e" U+009B (C1 CSI) "f"
   0xFF "g" and a cut 3-byte sequence (E2 82). Only U+00E9 may reach the output unescaped. */
PMF_EXPORT const char *pmf_controls(void);

#endif /* PARMAP_FIXTURE_H */
