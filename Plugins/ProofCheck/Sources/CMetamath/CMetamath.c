// Shims for Linux calls that Swift's Glibc module does not expose (they need _GNU_SOURCE).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/mman.h>
#include "CMetamath.h"

int cm_memfd_create(const char *name) {
    return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int cm_seal_contents(int descriptor) {
    return fcntl(descriptor, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
}

int cm_contents_are_sealed(int descriptor) {
    int seals = fcntl(descriptor, F_GET_SEALS);
    return seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_WRITE)) == (F_SEAL_SHRINK | F_SEAL_WRITE);
}

int cm_code_path(char *buffer, size_t capacity) {
    Dl_info info;
    if (dladdr((const void *)cm_code_path, &info) == 0 || info.dli_fname == NULL) return -1;
    size_t length = strlen(info.dli_fname);
    if (length + 1 > capacity) return -1;
    memcpy(buffer, info.dli_fname, length + 1);
    return 0;
}

long cm_copy_file(int from, long long offset, int to, long count) {
    off_t position = (off_t)offset;
    long copied = 0;
    while (copied < count) {
        ssize_t got = sendfile(to, from, &position, (size_t)(count - copied));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return copied;
        copied += got;
    }
    return copied;
}

int cm_open_unnamed(const char *directory) {
    return open(directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
}

int cm_link_unnamed(int descriptor, const char *path) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", descriptor);
    return linkat(AT_FDCWD, link, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}
