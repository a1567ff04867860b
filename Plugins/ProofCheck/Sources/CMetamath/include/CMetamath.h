#ifndef CMETAMATH_H
#define CMETAMATH_H

/// Starts loading the cache line at `address` for a read soon after (a hint: no fault, no
/// effect on results). Swift has no prefetch of its own.
static inline void cm_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// A new memory file (`memfd_create`) named `name`, closed on exec, that can be sealed;
/// -1 with `errno` set on failure.
int cm_memfd_create(const char *name);

/// Seals a memory file for good: it can no longer shrink, grow or be written, by anyone
/// (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL`). 0, or -1 with `errno` set
/// (`EINVAL` for a file that is not a sealable memory file, `EBUSY` while a writable shared
/// mapping of it exists).
int cm_seal_contents(int descriptor);

/// 1 when the open file can neither shrink nor be written (sealed), else 0.
int cm_contents_are_sealed(int descriptor);

#endif
