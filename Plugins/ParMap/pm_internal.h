/*
 * pm_internal.h — declarations shared by the ParMap plugin's files (not installed).
 *
 *   pm_buf.c        growable byte buffer, little-endian helpers, digest
 *   pm_signature.c  the signature grammar and the libffi type of each argument
 *   pm_number.c     exact and fast double <-> text (Clinger's fast path, Grisu2)
 *   pm_escape.c     escaping text for files and terminals (results, echoed input)
 *   pm_values.c     parsing a field into a C value, formatting a result
 *   pm_call.c       dlopen / dlsym / ffi_prep_cif once, then one chunk of lines through ffi_call
 *   pm_protocol.c   task, request and response encoding
 *   pm_input.c      reading whole lines in chunks (the master's only reads of the input)
 *   pm_output.c     the output writer and the reorder buffer for ordered output
 *   pm_checkpoint.c the journal checkpoint (ph.checkpoint/1): encoding, checking the output
 *   pm_master.c     master-side callbacks
 *   pm_worker.c     worker-side callbacks
 *   pm_entry.c      the descriptor
 */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include <ffi.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_abi.h"
#include "ph/ext/blobs.h"
#include "ph/ext/progress.h"
#include "pm_number.h"

/* Nothing but plugin_host_entry leaves the library. */
#pragma GCC visibility push(hidden)

/* ---- pm_buf.c ---- */

typedef struct pm_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: the content is incomplete */
} pm_buf;

void pm_buf_init(pm_buf *b);
void pm_buf_free(pm_buf *b);
/* Makes room for `extra` more bytes; returns a pointer to the free space or NULL. */
uint8_t *pm_buf_room(pm_buf *b, size_t extra);
void pm_buf_add(pm_buf *b, const void *data, size_t n);
void pm_buf_adds(pm_buf *b, const char *s);
void pm_buf_add_u32(pm_buf *b, uint32_t v);
void pm_buf_add_u64(pm_buf *b, uint64_t v);
/* Appends a printf-formatted text (no NUL). */
void pm_buf_printf(pm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

uint32_t pm_get_u32(const uint8_t *p);
uint64_t pm_get_u64(const uint8_t *p);
void pm_put_u32(uint8_t *p, uint32_t v);
void pm_put_u64(uint8_t *p, uint64_t v);

/* FNV-1a 64 over the three strings, each followed by a NUL. */
uint64_t pm_digest(const char *lib, const char *sym, const char *sig);
/* FNV-1a 64 of `n` bytes, continuing from `h` (0xcbf29ce484222325 to start). */
uint64_t pm_fnv1a(uint64_t h, const void *data, size_t n);
uint64_t pm_monotonic_ns(void);

/* ---- pm_escape.c ---- */

/* Appends `n` bytes of `s` escaped for a file or a terminal (see pm_escape.c): \\ \n \t \r,
   \xNN for other control bytes, C1 controls and bytes that are not valid UTF-8. */
void pm_buf_add_escaped(pm_buf *b, const char *s, size_t n);
/* The same for at most `max` bytes of `s` (no character cut), then "..." if clipped. */
void pm_buf_add_clipped(pm_buf *b, const char *s, size_t n, size_t max);

/* ---- pm_signature.c ---- */

typedef enum pm_type {
    PM_VOID,
    PM_I8, PM_I16, PM_I32, PM_I64,
    PM_U8, PM_U16, PM_U32, PM_U64,
    PM_FLOAT, PM_DOUBLE, PM_BOOL, PM_STRING, PM_BYTES,
} pm_type;

#define PM_MAX_ARGS 32

typedef struct pm_signature {
    pm_type ret;
    int nargs;
    pm_type args[PM_MAX_ARGS];
} pm_signature;

/* Parses "RET(ARG, ...)"; on error writes one line to err and returns -1. */
int pm_signature_parse(const char *text, pm_signature *out, char *err, size_t errlen);
const char *pm_type_name(pm_type t);
/* The libffi type of a scalar (a `bytes` argument is two: pointer and size_t). */
ffi_type *pm_ffi_type(pm_type t);

/* ---- pm_values.c ---- */

/* Storage for one argument. */
typedef union pm_value {
    int8_t i8; int16_t i16; int32_t i32; int64_t i64;
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    float f; double d;
    uint8_t b;
    const char *s;
    struct { const uint8_t *p; uint64_t n; } bytes;
} pm_value;

/*
 * Parses the NUL-terminated field [s, s+len) as type t into v. The field may be rewritten in
 * place (bytes are decoded there). Returns 0, or -1 with *why set to a static explanation.
 */
int pm_parse_field(pm_type t, char *s, size_t len, pm_value *v, const char **why);
/* Appends the text of a result of type t held in `ret` (an ffi return buffer), no newline. */
void pm_format_result(pm_type t, const void *ret, pm_buf *out);
/* Appends a double so that strtod gives it back exactly (pm_write_double). */
void pm_format_double(double d, pm_buf *out);

/* ---- pm_call.c ---- */

typedef struct pm_function {
    pm_signature sig;
    void *handle;
    void (*fn)(void);
    ffi_cif cif;
    unsigned n_ffi_args;
    ffi_type *ffi_args[2 * PM_MAX_ARGS];
} pm_function;

/* dlopen + dlsym + ffi_prep_cif. On error writes one line to err and returns -1. */
int pm_function_open(pm_function *f, const char *lib, const char *sym, const char *sig_text,
                     char *err, size_t errlen);
void pm_function_close(pm_function *f);
/* The path of the library file the function was loaded from, or NULL. */
const char *pm_function_file(const pm_function *f);

/* What one chunk produced. Reused between chunks by the worker. */
typedef struct pm_chunk_output {
    pm_buf out;    /* one line per item */
    pm_buf errors; /* n_errors × (u64 line, u32 len, message) */
    uint32_t n_items;
    uint32_t n_errors;
} pm_chunk_output;

/* Runs every line of `data` (writable, with one spare byte after len) through the function. */
void pm_run_chunk(const pm_function *f, char *data, size_t len, uint64_t first_line,
                  pm_chunk_output *r);

/* ---- pm_protocol.c ---- */

#define PM_TASK_HEADER 12
#define PM_REQUEST_HEADER 20
#define PM_REQUEST_SETUP 12
#define PM_RESPONSE_HEADER 40

typedef struct pm_task_view {
    uint64_t first_line;
    uint32_t n_lines;
    const uint8_t *data;
    size_t len;
} pm_task_view;

int pm_task_decode(ph_bytes b, pm_task_view *t);
void pm_task_encode(pm_buf *b, uint64_t first_line, uint32_t n_lines, const void *data,
                    size_t len);

typedef struct pm_request_view {
    int fresh;
    uint64_t digest;
    uint64_t first_line;
    const char *lib, *sym, *sig; /* not NUL-terminated: use the lengths */
    uint32_t lib_len, sym_len, sig_len;
    /* Fresh requests may carry a blob reference to the library file (ph.blobs/1), for a worker
       on a machine that lacks the library's path. */
    const uint8_t *blob;
    uint32_t blob_len;
    const uint8_t *chunk;
    size_t chunk_len;
} pm_request_view;

int pm_request_decode(ph_bytes b, pm_request_view *r);
/* lib/sym/sig NULL for a request to an Old worker; blob may be NULL (blob_len 0). */
void pm_request_encode(pm_buf *b, uint64_t digest, const pm_task_view *t, const char *lib,
                       const char *sym, const char *sig, const uint8_t *blob, size_t blob_len);

typedef struct pm_response_view {
    uint32_t n_items;
    uint32_t n_errors;
    uint64_t elapsed_ns;
    uint64_t request_len;
    uint32_t chunk_len;
    int had_setup;
    const uint8_t *out;
    size_t out_len;
    const uint8_t *errors; /* n_errors records, already checked */
    size_t errors_len;
} pm_response_view;

int pm_response_decode(ph_bytes b, pm_response_view *r);
void pm_response_encode(pm_buf *b, const pm_chunk_output *c, uint64_t elapsed_ns,
                        uint64_t request_len, uint32_t chunk_len, int had_setup);
/* Iterates the error records: returns 1 and advances *off while one is left. */
int pm_response_next_error(const pm_response_view *r, size_t *off, uint64_t *line,
                           const char **msg, uint32_t *msg_len);

/* ---- pm_input.c ---- */

typedef struct pm_input {
    int fd;
    int owns_fd;
    uint8_t *buf;
    size_t cap, start, end;
    int eof;
    int error; /* errno of a failed read, 0 if none */
    uint64_t next_line; /* line number of the first unread line (from 1) */
    uint64_t taken;     /* bytes taken so far: the input offset of the first unread line */
} pm_input;

int pm_input_open(pm_input *in, const char *path, char *err, size_t errlen);
void pm_input_close(pm_input *in);
/*
 * Takes up to `max_lines` whole lines (at least one, even past max_bytes), stopping early at
 * max_bytes, at the end of the input, or when more input would block and some lines are ready.
 * Returns the number of lines (0 at the end); the view stays valid until the next call.
 */
/* 1 if a take would not block: a whole line is buffered, or the input is readable or ended. */
int pm_input_ready(const pm_input *in);
uint32_t pm_input_take(pm_input *in, uint32_t max_lines, size_t max_bytes, const uint8_t **data,
                       size_t *len, uint64_t *first_line);
/* Continues a regular file's input at byte `offset`, which starts line `line`; -1 with errno. */
int pm_input_seek(pm_input *in, uint64_t offset, uint64_t line);

/* ---- pm_output.c ---- */

typedef struct pm_piece {
    uint64_t first_line;
    uint32_t n_lines;
    uint8_t *data; /* owned */
    size_t len;
} pm_piece;

typedef struct pm_output {
    int fd;
    int owns_fd;
    int ordered;
    int error; /* errno of a failed write, 0 if none */
    pm_buf pending; /* written at 256 KiB or at the end */
    uint64_t next_line; /* ordered: the next line to write */
    pm_piece *held; /* ordered: pieces that arrived before their turn */
    size_t n_held, held_cap;
    size_t held_bytes, peak_held_bytes;
    uint64_t pieces_written; /* pieces handed to write(), in order or not */
    int truncate_on_start;   /* a regular file: cut at start_offset by pm_output_start, not at open */
    uint64_t start_offset;   /* 0, or where a resumed run continues the file */
    int readable;            /* opened read-write: a checkpoint can read back what it wrote */
} pm_output;

/* Which file an input is, so that the output is never written over it. */
typedef struct pm_file_id {
    int set; /* a regular file or a block device (a pipe or a terminal may be shared) */
    uint64_t dev, ino;
    const char *what; /* how the refusal names it: "--input", "standard input", ... */
} pm_file_id;

/* The identity of an open file or of a path after symlinks; id->set is 0 when not applicable. */
void pm_file_id_of_fd(pm_file_id *id, int fd, const char *what);
void pm_file_id_of_path(pm_file_id *id, const char *path, const char *what);

/*
 * Opens the output (a path, or standard output for NULL or "-"). Refuses, with one line in err,
 * an output that is the same file (device and inode) as one of `inputs`: the file is opened
 * without truncation, compared, and only then truncated.
 */
int pm_output_open(pm_output *o, const char *path, int ordered, const pm_file_id *inputs,
                   size_t n_inputs, char *err, size_t errlen);
/* The run starts writing: empties the file now (a refused run leaves it as it was). */
void pm_output_start(pm_output *o);
/* Continues the file at byte `offset`, with line `next_line` next: the file is cut there by
   pm_output_start (a run refused after this leaves it as it was); -1 with errno. */
int pm_output_resume(pm_output *o, uint64_t offset, uint64_t next_line);
/* Hands over the output of lines [first_line, first_line + n_lines): written now or held. */
void pm_output_piece(pm_output *o, uint64_t first_line, uint32_t n_lines, const void *data,
                     size_t len);
/* Writes what is pending; returns the errno of a failed write, or 0. */
int pm_output_flush(pm_output *o);
void pm_output_close(pm_output *o);

/* ---- pm_checkpoint.c ---- */

typedef struct pm_failure {
    uint64_t line, last_line; /* a range when a whole chunk could not run */
    char *message;            /* owned */
} pm_failure;

#define PM_KEPT_FAILURES 100

/* What the final report counts. */
typedef struct pm_account {
    uint64_t items, unrun_items, failed_items, chunks, splits;
    uint64_t marshal_splits; /* of those splits, the ones after a marshal error */
    uint64_t fresh_requests, fresh_request_bytes, fresh_chunk_bytes;
    uint64_t old_requests, old_request_bytes, old_chunk_bytes;
    pm_failure fails[PM_KEPT_FAILURES];
    size_t n_fails;
} pm_account;

/* Adds `from` to `to` (failures kept up to PM_KEPT_FAILURES) and empties `from`. */
void pm_account_merge(pm_account *to, pm_account *from);
void pm_account_free(pm_account *a);

/* A resumable point: the input and output offsets up to which every line is written. */
typedef struct pm_checkpoint {
    uint64_t input_offset, next_line, output_offset, tail_digest;
} pm_checkpoint;

/* The digest of the output's last bytes before `offset` (read back from `fd`); -1 with errno. */
int pm_output_tail_digest(int fd, uint64_t offset, uint64_t *digest);
void pm_checkpoint_encode(pm_buf *b, const pm_checkpoint *c, const pm_account *a);
/* Decodes into *c and *a (a's messages owned); -1 if malformed. */
int pm_checkpoint_decode(ph_bytes b, pm_checkpoint *c, pm_account *a);

/* ---- pm_master.c, pm_worker.c: their callbacks into the descriptor ---- */

void pm_fill_master(ph_plugin_descriptor *d);
void pm_fill_worker(ph_plugin_descriptor *d);

#pragma GCC visibility pop

#endif /* PM_INTERNAL_H */
