/* pm_input.c — whole lines in chunks, read only when the master pulls (backpressure). */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "pm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PM_INPUT_INITIAL (1u << 20)

int pm_input_open(pm_input *in, const char *path, char *err, size_t errlen) {
    memset(in, 0, sizeof *in);
    in->next_line = 1;
    if (path == NULL || strcmp(path, "-") == 0) {
        in->fd = 0;
    } else {
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            snprintf(err, errlen, "cannot read input '%.300s': %s", path, strerror(errno));
            return -1;
        }
        in->owns_fd = 1;
        struct stat st;
        if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%.300s: --input is a directory", path);
            close(in->fd);
            return -1;
        }
    }
    in->cap = PM_INPUT_INITIAL;
    in->buf = malloc(in->cap);
    if (in->buf == NULL) {
        snprintf(err, errlen, "out of memory");
        if (in->owns_fd) close(in->fd);
        return -1;
    }
    return 0;
}

void pm_input_close(pm_input *in) {
    if (in->owns_fd && in->fd >= 0) close(in->fd);
    in->fd = -1;
    free(in->buf);
    in->buf = NULL;
}

/* 1 if a read would not block (data or end of file is there). */
static int readable_now(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

int pm_input_ready(const pm_input *in) {
    return in->eof || memchr(in->buf + in->start, '\n', in->end - in->start) != NULL ||
           readable_now(in->fd);
}

/* Reads more bytes after compacting; returns 0, or -1 when nothing more can come. */
static int fill(pm_input *in, size_t *scan) {
    if (in->start > 0) {
        size_t keep = in->end - in->start;
        memmove(in->buf, in->buf + in->start, keep);
        *scan -= in->start;
        in->end = keep;
        in->start = 0;
    }
    if (in->end == in->cap) {
        /* One line longer than the buffer: grow (a line must fit a frame, see parmap.h). */
        if (in->cap >= (size_t)1 << 30) {
            in->error = EFBIG;
            in->eof = 1;
            return -1;
        }
        uint8_t *n = realloc(in->buf, in->cap * 2);
        if (n == NULL) {
            in->error = ENOMEM;
            in->eof = 1;
            return -1;
        }
        in->buf = n;
        in->cap *= 2;
    }
    for (;;) {
        ssize_t k = read(in->fd, in->buf + in->end, in->cap - in->end);
        if (k > 0) {
            in->end += (size_t)k;
            return 0;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) in->error = errno;
        in->eof = 1;
        return -1;
    }
}

uint32_t pm_input_take(pm_input *in, uint32_t max_lines, size_t max_bytes, const uint8_t **data,
                       size_t *len, uint64_t *first_line) {
    size_t scan = in->start;
    uint32_t lines = 0;
    if (max_lines == 0) max_lines = 1;
    for (;;) {
        while (lines < max_lines && !(lines > 0 && scan - in->start >= max_bytes)) {
            uint8_t *nl = memchr(in->buf + scan, '\n', in->end - scan);
            if (nl == NULL) break;
            scan = (size_t)(nl - in->buf) + 1;
            lines++;
        }
        if (lines >= max_lines || (lines > 0 && scan - in->start >= max_bytes)) break;
        if (in->eof) {
            if (scan < in->end) { /* a last line without '\n' */
                scan = in->end;
                lines++;
            }
            break;
        }
        if (lines > 0 && !readable_now(in->fd)) break; /* ship what is ready */
        fill(in, &scan);
    }
    *data = in->buf + in->start;
    *len = scan - in->start;
    *first_line = in->next_line;
    in->start = scan;
    in->next_line += lines;
    in->taken += *len;
    return lines;
}

int pm_input_seek(pm_input *in, uint64_t offset, uint64_t line) {
    if (lseek(in->fd, (off_t)offset, SEEK_SET) < 0) return -1;
    in->start = in->end = 0;
    in->eof = 0;
    in->next_line = line;
    in->taken = offset;
    return 0;
}
