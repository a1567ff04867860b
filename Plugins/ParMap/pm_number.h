/* pm_number.h — exact, fast double <-> text (pm_number.c). Also compiled into the benchmark's
   plain C loop, so that both do the same parse and format. */
#ifndef PM_NUMBER_H
#define PM_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Parses exactly [s, s+len) (s NUL-terminated at len) as strtod would; 0 or -1. */
int pm_parse_double(const char *s, size_t len, double *out);
/* Writes the shortest-or-nearly text that strtod reads back to the same double; no NUL.
   Returns the length (at most 25 bytes). */
size_t pm_write_double(double value, char *out);

#pragma GCC visibility pop

#endif /* PM_NUMBER_H */
