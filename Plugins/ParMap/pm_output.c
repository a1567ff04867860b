/* pm_output.c — the output file and, for ordered output, the pieces waiting for their turn. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "pm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PM_OUTPUT_BUFFER (256u << 10)

static void identify(pm_file_id *id, const struct stat *st, const char *what) {
    id->set = S_ISREG(st->st_mode) || S_ISBLK(st->st_mode); /* not a pipe or a terminal */
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->what = what;
}

void pm_file_id_of_fd(pm_file_id *id, int fd, const char *what) {
    struct stat st;
    memset(id, 0, sizeof *id);
    if (fd >= 0 && fstat(fd, &st) == 0) identify(id, &st, what);
}

void pm_file_id_of_path(pm_file_id *id, const char *path, const char *what) {
    struct stat st;
    memset(id, 0, sizeof *id);
    if (path != NULL && stat(path, &st) == 0) identify(id, &st, what);
}

int pm_output_open(pm_output *o, const char *path, int ordered, const pm_file_id *inputs,
                   size_t n_inputs, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    pm_buf_init(&o->pending);
    o->ordered = ordered;
    o->next_line = 1;
    int to_stdout = path == NULL || strcmp(path, "-") == 0;
    if (to_stdout) {
        o->fd = 1;
    } else {
        /* Not truncated yet: first make sure it is none of the inputs. */
        /* Read-write when allowed: a journal checkpoint reads back the bytes it claims. */
        o->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        o->readable = o->fd >= 0;
        if (o->fd < 0) o->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (o->fd < 0) {
            snprintf(err, errlen, "cannot write output '%.300s': %s", path, strerror(errno));
            return -1;
        }
        o->owns_fd = 1;
    }
    pm_file_id out;
    pm_file_id_of_fd(&out, o->fd, NULL);
    for (size_t i = 0; out.set && i < n_inputs; i++) {
        if (!inputs[i].set || inputs[i].dev != out.dev || inputs[i].ino != out.ino) continue;
        if (to_stdout)
            snprintf(err, errlen, "standard output is the same file as %s", inputs[i].what);
        else
            snprintf(err, errlen, "%.300s: --output is the same file as %s", path, inputs[i].what);
        pm_output_close(o);
        return -1;
    }
    /* Standard output is left as the shell opened it (`>>` appends). A file is emptied when the
       run starts (pm_output_start), or continued by a resumed run (pm_output_resume). */
    if (!to_stdout) {
        struct stat st;
        o->truncate_on_start = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    }
    return 0;
}

void pm_output_start(pm_output *o) {
    if (!o->truncate_on_start) return;
    o->truncate_on_start = 0;
    if ((ftruncate(o->fd, (off_t)o->start_offset) != 0 || lseek(o->fd, (off_t)o->start_offset, SEEK_SET) < 0) &&
        o->error == 0)
        o->error = errno;
}

int pm_output_resume(pm_output *o, uint64_t offset, uint64_t next_line) {
    struct stat st;
    if (offset > (uint64_t)INT64_MAX || fstat(o->fd, &st) != 0) return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = ESPIPE;
        return -1;
    }
    o->truncate_on_start = 1; /* cut at `offset` by pm_output_start: a refused run leaves it */
    o->start_offset = offset;
    o->next_line = next_line;
    return 0;
}

static void write_all(pm_output *o, const uint8_t *p, size_t n) {
    while (n > 0 && o->error == 0) {
        ssize_t k = write(o->fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            o->error = k < 0 ? errno : EIO;
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

int pm_output_flush(pm_output *o) {
    if (o->pending.len > 0) write_all(o, o->pending.p, o->pending.len);
    o->pending.len = 0;
    return o->error;
}

static void emit(pm_output *o, const void *data, size_t len) {
    if (o->error != 0) return;
    if (o->pending.len + len > PM_OUTPUT_BUFFER) pm_output_flush(o);
    if (len >= PM_OUTPUT_BUFFER) {
        write_all(o, data, len);
    } else {
        pm_buf_add(&o->pending, data, len);
    }
}

void pm_output_piece(pm_output *o, uint64_t first_line, uint32_t n_lines, const void *data,
                     size_t len) {
    if (!o->ordered) {
        emit(o, data, len);
        o->pieces_written++;
        return;
    }
    if (first_line != o->next_line) {
        /* Not its turn: keep a copy. At most the window of outstanding chunks is held. */
        if (o->n_held == o->held_cap) {
            size_t cap = o->held_cap ? o->held_cap * 2 : 16;
            pm_piece *n = realloc(o->held, cap * sizeof *n);
            if (n == NULL) {
                o->error = ENOMEM;
                return;
            }
            o->held = n;
            o->held_cap = cap;
        }
        pm_piece *pc = &o->held[o->n_held];
        pc->data = malloc(len > 0 ? len : 1);
        if (pc->data == NULL) {
            o->error = ENOMEM;
            return;
        }
        if (len > 0) memcpy(pc->data, data, len);
        pc->first_line = first_line;
        pc->n_lines = n_lines;
        pc->len = len;
        o->n_held++;
        o->held_bytes += len;
        if (o->held_bytes > o->peak_held_bytes) o->peak_held_bytes = o->held_bytes;
        return;
    }
    emit(o, data, len);
    o->pieces_written++;
    o->next_line += n_lines;
    /* Pieces that were waiting for this one. */
    for (size_t i = 0; i < o->n_held;) {
        pm_piece *pc = &o->held[i];
        if (pc->first_line != o->next_line) {
            i++;
            continue;
        }
        emit(o, pc->data, pc->len);
        o->pieces_written++;
        o->next_line += pc->n_lines;
        o->held_bytes -= pc->len;
        free(pc->data);
        o->held[i] = o->held[--o->n_held];
        i = 0; /* the next one may be anywhere */
    }
}

void pm_output_close(pm_output *o) {
    pm_output_flush(o);
    for (size_t i = 0; i < o->n_held; i++) free(o->held[i].data);
    free(o->held);
    o->held = NULL;
    o->n_held = 0;
    pm_buf_free(&o->pending);
    if (o->owns_fd && o->fd >= 0) close(o->fd);
    o->fd = -1;
}
