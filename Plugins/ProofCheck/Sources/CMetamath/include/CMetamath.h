#ifndef CMETAMATH_H
#define CMETAMATH_H

#include <stddef.h>

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

/// The path of the file (shared library or executable) that holds this code, written to
/// `buffer` with its terminating zero: 0, or -1 when it is unknown or does not fit.
int cm_code_path(char *buffer, size_t capacity);

/// Copies `count` bytes of the file `from`, starting at `offset`, to the current offset of
/// `to`, in the kernel (`sendfile`): the number of bytes copied (fewer on an error).
long cm_copy_file(int from, long long offset, int to, long count);

/// A new unnamed file in `directory` (`O_TMPFILE`), open for writing, closed on exec, mode
/// 600: it disappears with its last descriptor unless linked (``cm_link_unnamed``); -1 with
/// `errno` set on failure.
int cm_open_unnamed(const char *directory);

/// Gives the unnamed file open as `descriptor` the name `path` (which must not exist): 0, or
/// -1 with `errno` set (`EEXIST` when the name is taken).
int cm_link_unnamed(int descriptor, const char *path);

#endif
