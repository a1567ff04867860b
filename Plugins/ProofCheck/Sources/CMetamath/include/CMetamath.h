#ifndef CMETAMATH_H
#define CMETAMATH_H

/// Starts loading the cache line at `address` for a read soon after (a hint: no fault, no
/// effect on results). Swift has no prefetch of its own.
static inline void cm_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
