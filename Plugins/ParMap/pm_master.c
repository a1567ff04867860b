/*
 * pm_master.c — the master side: options, pulling input in chunks, requests by competence,
 * responses into the output, and bisection of chunks whose worker died or whose request or
 * response could not be marshalled (an oversize line).
 *
 * Flow control: a chunk is "outstanding" from the pull that reads it until its output is
 * written (for ordered output, a finished chunk held until the chunks before it are written is
 * still outstanding). `pull` reads no input while `window` chunks are outstanding, so the
 * master holds at most about `window` chunks of input and of output (a split adds one),
 * whatever the size of the input.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "pm_internal.h"
#include "ph/util/options.h"
#include "ph/ext/checkpoint.h"
#include "ph/ext/journal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PM_TARGET_CHUNK_NS 5000000.0 /* adaptive chunks aim at about 5 ms of work */
#define PM_FIRST_CHUNK 16
#define PM_MAX_CHUNK_LINES (1u << 20)
#define PM_MAX_ADAPTIVE_BYTES ((size_t)4 << 20)
#define PM_MAX_FIXED_BYTES ((size_t)32 << 20)
/* A checkpoint once 16 KiB more output is written (at a chunk's end), and at the last one: a
   kill redoes at most the open chunks (the window) and one more. */
#define PM_CHECKPOINT_BYTES ((uint64_t)16 << 10)

/* Ordered output: a chunk pulled whose lines are not all written yet, with what the report
   counts for it (added to the totals once its last line is written, in input order: the
   report's failures are listed in input order, and a journal checkpoint holds the counts of
   exactly the lines written). */
typedef struct pm_open_chunk {
    uint64_t first_line, end_line; /* [first_line, end_line) */
    uint64_t input_end;            /* input offset after its last line */
    uint64_t output_bytes;         /* output handed over for its lines */
    pm_account account;
} pm_open_chunk;

typedef struct pm_master {
    const ph_master_host *host;
    const ph_master_progress *progress; /* items on the host's progress line, or NULL */
    ph_policy policy;
    char *lib, *sym, *sig; /* owned; lib made absolute when it is a path */
    uint64_t digest;
    char competence[32];
    size_t competence_len;
    pm_function check; /* opened in master_open to report setup errors early */
    int check_open;

    pm_input in;
    int in_open;
    pm_output out;
    int out_open;
    int output_is_file;
    int input_done;
    char *input_name; /* owned: the --input path, or "standard input" */
    char *output_name; /* owned: the --output path, or NULL */
    int output_error_reported;

    uint32_t fixed_chunk; /* --chunk N, 0 for adaptive */
    uint32_t chunk_lines; /* adaptive: the current size */
    double ns_per_item;   /* adaptive: smoothed measure */
    size_t window;
    uint64_t pieces;          /* chunks pulled, plus one per split */
    size_t peak_outstanding;
    uint32_t workers;
    int stats;

    pm_account total; /* what the report counts (checkpointed: chunks whose lines are written) */

    /* Ordered output (`by_chunk`): the open chunks in input order (a ring), and the last chunk
       boundary whose lines are all written; journal checkpoints (ph.checkpoint/1) of that
       boundary when `checkpointing`. */
    int by_chunk;
    int checkpointing;
    const ph_master_checkpoint *checkpoints;
    pm_open_chunk *open;
    size_t open_cap, open_head, open_count;
    pm_checkpoint written;          /* the boundary reached (tail_digest unset) */
    uint64_t recorded_output;       /* output offset of the last checkpoint recorded */
    int syncs_output;               /* the journal syncs the output before itself */
    pm_buf checkpoint;

    pm_buf scratch;
    /* The library file published as a blob (ph.blobs/1), 0 when not: a bare name, a host
       without the extension. */
    uint64_t lib_blob;
    const ph_master_blobs *blobs;
} pm_master;

static void master_free(pm_master *m) {
    if (m == NULL) return;
    if (m->check_open) pm_function_close(&m->check);
    if (m->in_open) pm_input_close(&m->in);
    if (m->out_open) pm_output_close(&m->out);
    pm_account_free(&m->total);
    for (size_t i = 0; i < m->open_count; i++) pm_account_free(&m->open[(m->open_head + i) % m->open_cap].account);
    free(m->open);
    pm_buf_free(&m->checkpoint);
    free(m->lib);
    free(m->sym);
    free(m->sig);
    free(m->input_name);
    free(m->output_name);
    pm_buf_free(&m->scratch);
    free(m);
}

static void *usage_error(pm_master *m, const ph_error_sink *errors, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *usage_error(pm_master *m, const ph_error_sink *errors, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ph_set_errorv(errors, fmt, ap);
    va_end(ap);
    master_free(m);
    return NULL;
}

static void logf_(pm_master *m, uint32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(pm_master *m, uint32_t level, const char *fmt, ...) {
    if (m->host->log == NULL) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->host->log(m->host, level, msg);
}

static char *dup_string(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL) memcpy(d, s, n + 1);
    return d;
}

static void *master_open(const ph_master_host *host, const ph_open_params *params,
                         const ph_error_sink *errors) {
    pm_master *m = calloc(1, sizeof *m);
    if (m == NULL) return usage_error(NULL, errors, "out of memory");
    m->host = host;
    m->policy = params->policy;
    m->workers = params->max_workers > 0 ? params->max_workers : 1;
    pm_buf_init(&m->scratch);
    pm_buf_init(&m->checkpoint);
    const char *lib = NULL, *sym = NULL, *sig = NULL, *input = NULL, *output = NULL;
    int ordered = 1;
    for (int i = 1; i < params->argc; i++) {
        const char *a = params->argv[i];
        const char *v = NULL;
        if (a == NULL) continue;
        if (strcmp(a, "--ordered") == 0) {
            ordered = 1;
        } else if (strcmp(a, "--unordered") == 0) {
            ordered = 0;
        } else if (strcmp(a, "--stats") == 0) {
            m->stats = 1;
        } else if (ph_option_value(params, &i, "--library", &v)) {
            if ((lib = v) == NULL) return usage_error(m, errors, "--library needs a value");
        } else if (ph_option_value(params, &i, "--symbol", &v)) {
            if ((sym = v) == NULL) return usage_error(m, errors, "--symbol needs a value");
        } else if (ph_option_value(params, &i, "--signature", &v)) {
            if ((sig = v) == NULL) return usage_error(m, errors, "--signature needs a value");
        } else if (ph_option_value(params, &i, "--input", &v)) {
            if ((input = v) == NULL) return usage_error(m, errors, "--input needs a file");
        } else if (ph_option_value(params, &i, "--output", &v)) {
            if ((output = v) == NULL) return usage_error(m, errors, "--output needs a file");
        } else if (ph_option_value(params, &i, "--chunk", &v)) {
            char *end;
            unsigned long long n = v != NULL ? strtoull(v, &end, 10) : 0;
            if (v == NULL || *v == '\0' || *end != '\0' || n < 1 || n > PM_MAX_CHUNK_LINES)
                return usage_error(m, errors, "--chunk takes a number of items from 1 to %u",
                                   PM_MAX_CHUNK_LINES);
            m->fixed_chunk = (uint32_t)n;
        } else {
            return usage_error(m, errors, "unknown parmap argument '%.200s'", a);
        }
    }
    if (lib == NULL || sym == NULL || sig == NULL)
        return usage_error(m, errors, "--library, --symbol and --signature are required");

    /* A path is made absolute so that workers do not depend on the directory. */
    char *abs = NULL;
    if (strchr(lib, '/') != NULL && lib[0] != '/') {
        abs = realpath(lib, NULL);
        if (abs == NULL)
            return usage_error(m, errors, "cannot load library '%.300s': %s", lib,
                               strerror(errno));
    }
    m->lib = abs != NULL ? abs : dup_string(lib);
    m->sym = dup_string(sym);
    m->sig = dup_string(sig);
    if (m->lib == NULL || m->sym == NULL || m->sig == NULL)
        return usage_error(m, errors, "out of memory");

    char err[1024];
    if (pm_function_open(&m->check, m->lib, m->sym, m->sig, err, sizeof err) != 0)
        return usage_error(m, errors, "%s", err);
    m->check_open = 1;
    /* A library given by path is offered to workers as a blob: one on a machine that lacks the
       path gets the file itself (the worker prefers its own copy when the path exists there). */
    if (strchr(m->lib, '/') != NULL) m->blobs = host->get_extension(host, PH_EXT_BLOBS);
    if (m->blobs != NULL) {
        int fd = open(m->lib, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            m->lib_blob = m->blobs->publish_fd(host, fd);
            close(fd);
        }
    }
    m->digest = pm_digest(m->lib, m->sym, m->sig);
    m->competence_len = (size_t)snprintf(m->competence, sizeof m->competence, "parmap:%016" PRIx64,
                                         m->digest);

    int input_is_file = input != NULL && strcmp(input, "-") != 0;
    m->input_name = dup_string(input_is_file ? input : "standard input");
    if (m->input_name == NULL) return usage_error(m, errors, "out of memory");
    if (pm_input_open(&m->in, input, err, sizeof err) != 0) return usage_error(m, errors, "%s", err);
    m->in_open = 1;
    /* The output is never written over an input: the input itself, or the library. */
    pm_file_id inputs[2];
    pm_file_id_of_fd(&inputs[0], m->in.fd, input_is_file ? "--input" : "standard input");
    pm_file_id_of_path(&inputs[1], pm_function_file(&m->check), "--library");
    if (pm_output_open(&m->out, output, ordered, inputs, 2, err, sizeof err) != 0)
        return usage_error(m, errors, "%s", err);
    m->out_open = 1;
    m->output_is_file = output != NULL && strcmp(output, "-") != 0;
    if (m->output_is_file && (m->output_name = dup_string(output)) == NULL)
        return usage_error(m, errors, "out of memory");

    m->progress = host->get_extension(host, PH_EXT_PROGRESS);
    if (m->progress != NULL) m->progress->set_total(host, "items", 0); /* 0: not known */
    m->chunk_lines = m->fixed_chunk ? m->fixed_chunk : PM_FIRST_CHUNK;
    m->by_chunk = ordered;
    m->written = (pm_checkpoint){.next_line = 1};
    m->window = 4 * (size_t)m->workers;
    if (m->window < 4) m->window = 4;
    return m;
}

/* ---- output and failures ---- */

/* The open chunk holding `line`, or NULL (a binary search: the ring is in input order). */
static pm_open_chunk *open_chunk_of(pm_master *m, uint64_t line) {
    size_t low = 0, high = m->open_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        pm_open_chunk *c = &m->open[(m->open_head + mid) % m->open_cap];
        if (line < c->first_line)
            high = mid;
        else if (line >= c->end_line)
            low = mid + 1;
        else
            return c;
    }
    return NULL;
}

/* Where what happens to `line` is counted: the totals, or (ordered output) its chunk's account
   until all of its lines are written. */
static pm_account *account_of(pm_master *m, uint64_t line) {
    pm_open_chunk *c = m->by_chunk ? open_chunk_of(m, line) : NULL;
    return c != NULL ? &c->account : &m->total;
}

/* Counts `count` failed items from `line` on; keeps the first PM_KEPT_FAILURES records. */
static void keep_failures(pm_master *m, uint64_t line, uint64_t count, const char *msg,
                          size_t len) {
    pm_account *a = account_of(m, line);
    a->failed_items += count;
    if (a->n_fails == PM_KEPT_FAILURES) return;
    char *copy = malloc(len + 1);
    if (copy == NULL) return;
    memcpy(copy, msg, len);
    copy[len] = '\0';
    a->fails[a->n_fails].line = line;
    a->fails[a->n_fails].last_line = line + count - 1;
    a->fails[a->n_fails].message = copy;
    a->n_fails++;
}

static void keep_failure(pm_master *m, uint64_t line, const char *msg, size_t len) {
    keep_failures(m, line, 1, msg, len);
}

/* Chunks read (or split off) whose output is not written yet. */
static size_t outstanding(const pm_master *m) {
    return (size_t)(m->pieces - m->out.pieces_written);
}

static void note_pieces(pm_master *m, uint64_t more) {
    m->pieces += more;
    if (outstanding(m) > m->peak_outstanding) m->peak_outstanding = outstanding(m);
}

/* Journals where the output stands, once enough was written since the last checkpoint (or
   `last`: every pulled line is written). The output is written out first: a checkpoint claims
   only bytes `write` took. */
static void maybe_checkpoint(pm_master *m, int last) {
    if (m->written.output_offset - m->recorded_output < PM_CHECKPOINT_BYTES && !last) return;
    if (pm_output_flush(&m->out) != 0) return;
    if (!m->syncs_output) m->checkpoints->sync_with_journal(m->host, m->out.fd);
    m->syncs_output = 1;
    pm_checkpoint c = m->written;
    if (pm_output_tail_digest(m->out.fd, c.output_offset, &c.tail_digest) != 0) return;
    pm_checkpoint_encode(&m->checkpoint, &c, &m->total);
    if (m->checkpoint.failed) {
        m->checkpoint.failed = 0;
        return;
    }
    m->checkpoints->record(m->host, m->checkpoint.p, m->checkpoint.len);
    m->recorded_output = c.output_offset;
}

/* Ordered output: chunks whose lines are all written now count in the totals, in input order. */
static void close_written_chunks(pm_master *m) {
    int closed = 0;
    while (m->open_count > 0) {
        pm_open_chunk *c = &m->open[m->open_head];
        if (m->out.next_line < c->end_line) break;
        pm_account_merge(&m->total, &c->account);
        m->written.input_offset = c->input_end;
        m->written.next_line = c->end_line;
        m->written.output_offset += c->output_bytes;
        m->open_head = (m->open_head + 1) % m->open_cap;
        m->open_count--;
        closed = 1;
    }
    if (closed && m->checkpointing) maybe_checkpoint(m, m->input_done && m->open_count == 0);
}

/* Ordered output: a chunk just pulled. Returns -1 out of memory. */
static int open_chunk(pm_master *m, uint64_t first_line, uint32_t n_lines) {
    if (m->open_count == m->open_cap) {
        size_t cap = m->open_cap ? m->open_cap * 2 : 16;
        pm_open_chunk *n = calloc(cap, sizeof *n);
        if (n == NULL) return -1;
        for (size_t i = 0; i < m->open_count; i++) n[i] = m->open[(m->open_head + i) % m->open_cap];
        free(m->open);
        m->open = n;
        m->open_cap = cap;
        m->open_head = 0;
    }
    pm_open_chunk *c = &m->open[(m->open_head + m->open_count) % m->open_cap];
    memset(c, 0, sizeof *c);
    c->first_line = first_line;
    c->end_line = first_line + n_lines;
    c->input_end = m->in.taken;
    m->open_count++;
    return 0;
}

/* Hands a chunk's output over: written now, or held until its turn. */
static void deliver(pm_master *m, uint64_t first_line, uint32_t n_lines, const void *data,
                    size_t len) {
    pm_open_chunk *open = m->by_chunk ? open_chunk_of(m, first_line) : NULL;
    if (open != NULL) open->output_bytes += len;
    pm_output_piece(&m->out, first_line, n_lines, data, len);
    if (m->by_chunk) close_written_chunks(m);
    if (m->progress != NULL) m->progress->advance(m->host, n_lines);
    if (outstanding(m) == 0) pm_output_flush(&m->out); /* idle: a slow stream sees its output */
    if (m->out.error != 0 && !m->output_error_reported) {
        m->output_error_reported = 1;
        m->input_done = 1; /* stop reading: nothing more can be written */
        logf_(m, 3, "cannot write the output: %s; reading no more input", strerror(m->out.error));
    }
}

/* Every line of a chunk fails with the same cause (the chunk could not run). */
static void fail_lines(pm_master *m, const pm_task_view *t, const char *cause) {
    pm_buf text;
    pm_buf_init(&text);
    for (uint32_t i = 0; i < t->n_lines; i++)
        pm_buf_printf(&text, "#error: line %" PRIu64 ": %s\n", t->first_line + i, cause);
    keep_failures(m, t->first_line, t->n_lines, cause, strlen(cause)); /* one record */
    account_of(m, t->first_line)->unrun_items += t->n_lines;
    deliver(m, t->first_line, t->n_lines, text.p, text.len);
    pm_buf_free(&text);
}

/* ---- pulling input ---- */

static int master_pull(void *master, uint32_t max) {
    pm_master *m = master;
    pm_output_start(&m->out);
    for (uint32_t k = 0; k < max && !m->input_done && outstanding(m) < m->window; k++) {
        /* pull runs under the host's lock: block on a slow input only when no chunk is out
           (a chunk's end calls pull again). */
        if (outstanding(m) > 0 && !pm_input_ready(&m->in)) break;
        const uint8_t *data;
        size_t len;
        uint64_t first;
        size_t max_bytes = m->fixed_chunk ? PM_MAX_FIXED_BYTES : PM_MAX_ADAPTIVE_BYTES;
        uint32_t lines = pm_input_take(&m->in, m->chunk_lines, max_bytes, &data, &len, &first);
        if (lines == 0) {
            m->input_done = 1;
            break; /* a read error is in m->in.error: reported by finish */
        }
        pm_task_encode(&m->scratch, first, lines, data, len);
        if (m->scratch.failed) {
            m->input_done = 1;
            logf_(m, 3, "out of memory reading the input");
            break;
        }
        if (m->by_chunk && open_chunk(m, first, lines) != 0) {
            m->input_done = 1;
            logf_(m, 3, "out of memory reading the input");
            break;
        }
        m->host->push_task(m->host, m->scratch.p, m->scratch.len, 0, 0);
        account_of(m, first)->chunks++;
        note_pieces(m, 1);
        if (m->in.eof && m->in.start == m->in.end) m->input_done = 1;
    }
    return m->input_done ? 0 : 1;
}

/* ---- requests ---- */

static int holds_our_function(const pm_master *m, const ph_worker_status *s) {
    return s != NULL && s->is_old && s->competence.data != NULL &&
           s->competence.len == m->competence_len &&
           memcmp(s->competence.data, m->competence, m->competence_len) == 0;
}

static int master_task_match(void *master, const ph_worker_status *status, ph_bytes task) {
    (void)task;
    return status == NULL || !status->is_old || holds_our_function(master, status);
}

static ph_request_result master_request_of_task(void *master, const ph_worker_status *status,
                                                ph_bytes task, const ph_request_sink *out) {
    pm_master *m = master;
    pm_task_view t;
    if (pm_task_decode(task, &t) != 0) {
        out->set_marshal_error(out, "parmap: malformed task");
        return PH_REQUEST_READY;
    }
    if (holds_our_function(m, status)) /* Old: the chunk only */
        pm_request_encode(&m->scratch, m->digest, &t, NULL, NULL, NULL, NULL, 0);
    else { /* Fresh: what to load, then the chunk */
        uint8_t reference[PH_BLOB_REFERENCE_MAX];
        size_t reference_len = 0;
        if (m->lib_blob != 0 && status != NULL && status->worker_name != NULL)
            reference_len = m->blobs->reference(m->host, m->lib_blob, status->worker_name, reference,
                                                sizeof reference);
        pm_request_encode(&m->scratch, m->digest, &t, m->lib, m->sym, m->sig,
                          reference_len > 0 ? reference : NULL, reference_len);
    }
    if (m->scratch.failed) {
        m->scratch.failed = 0;
        out->set_marshal_error(out, "parmap: out of memory");
    } else {
        out->set_request(out, m->scratch.p, m->scratch.len);
    }
    return PH_REQUEST_READY;
}

/* ---- responses ---- */

static void adapt_chunk(pm_master *m, const pm_response_view *r) {
    if (m->fixed_chunk || r->n_items == 0) return;
    double per = (double)r->elapsed_ns / r->n_items;
    if (per < 1) per = 1;
    m->ns_per_item = m->ns_per_item == 0 ? per : 0.7 * m->ns_per_item + 0.3 * per;
    double want = PM_TARGET_CHUNK_NS / m->ns_per_item;
    double grow = 4.0 * m->chunk_lines;
    if (want > grow) want = grow;
    if (want < 1) want = 1;
    if (want > PM_MAX_CHUNK_LINES) want = PM_MAX_CHUNK_LINES;
    m->chunk_lines = (uint32_t)want;
}

static void master_use_response(void *master, const ph_worker_status *status, ph_bytes task,
                                ph_bytes response, const ph_response_sink *out) {
    pm_master *m = master;
    (void)status;
    pm_task_view t;
    pm_response_view r;
    if (pm_task_decode(task, &t) != 0) {
        out->resolve(out, PH_OUTCOME_FAILED, "parmap: malformed task");
        return;
    }
    if (pm_response_decode(response, &r) != 0 || r.n_items != t.n_lines) {
        fail_lines(m, &t, "not run: malformed response from the worker");
        out->resolve(out, PH_OUTCOME_FAILED, "parmap: malformed response");
        return;
    }
    if (m->policy == PH_POLICY_PERSISTENT) out->stay(out, m->competence, m->competence_len);
    pm_account *a = account_of(m, t.first_line);
    a->items += r.n_items;
    if (r.had_setup) {
        a->fresh_requests++;
        a->fresh_request_bytes += r.request_len;
        a->fresh_chunk_bytes += r.chunk_len;
    } else {
        a->old_requests++;
        a->old_request_bytes += r.request_len;
        a->old_chunk_bytes += r.chunk_len;
    }
    size_t off = 0;
    uint64_t line;
    const char *msg;
    uint32_t len;
    while (pm_response_next_error(&r, &off, &line, &msg, &len)) keep_failure(m, line, msg, len);
    adapt_chunk(m, &r);
    deliver(m, t.first_line, t.n_lines, r.out, r.out_len);
}

/* ---- losses: bisection ---- */

/* The signal name from the host's death message ("... killed by signal 11 (SIGSEGV)"). */
static void death_cause(ph_loss_reason reason, const char *message, char *cause, size_t n) {
    if (reason == PH_LOSS_EXPIRED) {
        snprintf(cause, n, "timeout");
        return;
    }
    if (reason == PH_LOSS_OUT_OF_MEMORY) {
        snprintf(cause, n, "out of memory");
        return;
    }
    const char *msg = message != NULL ? message : "";
    const char *sig = strstr(msg, "(SIG");
    if (sig != NULL) {
        const char *close = strchr(sig, ')');
        if (close != NULL && close - sig - 1 < 24) {
            snprintf(cause, n, "%.*s", (int)(close - sig - 1), sig + 1);
            return;
        }
    }
    const char *ex = strstr(msg, "exited with status ");
    if (ex != NULL) {
        snprintf(cause, n, "exit %d", atoi(ex + strlen("exited with status ")));
        return;
    }
    snprintf(cause, n, "worker died");
}

static void push_part(pm_master *m, const ph_response_sink *out, uint64_t first, uint32_t n,
                      const uint8_t *data, size_t len) {
    pm_task_encode(&m->scratch, first, n, data, len);
    /* Priority -1: the parts run before new input, so ordered output is not held up. */
    out->push_task(out, m->scratch.p, m->scratch.len, -1);
}

/*
 * Bisects a chunk of more than one line: the lines that caused `cause` are in one half. Pushes
 * both halves (ahead of new input) and resolves the chunk itself, so the host does not retry it.
 */
static void split_chunk(pm_master *m, const pm_task_view *t, const char *cause,
                        const ph_response_sink *out) {
    uint32_t half = t->n_lines / 2;
    const uint8_t *p = t->data, *end = t->data + t->len;
    for (uint32_t i = 0; i < half && p < end; i++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl != NULL ? nl + 1 : end;
    }
    size_t left = (size_t)(p - t->data);
    uint64_t mid = t->first_line + half;
    uint64_t last = t->first_line + t->n_lines - 1;
    push_part(m, out, t->first_line, half, t->data, left);
    push_part(m, out, mid, t->n_lines - half, p, t->len - left);
    account_of(m, t->first_line)->splits++;
    note_pieces(m, 1); /* one chunk became two */
    char msg[512];
    snprintf(msg, sizeof msg,
             "%s on lines %" PRIu64 "-%" PRIu64 ": split into %" PRIu64 "-%" PRIu64
             " and %" PRIu64 "-%" PRIu64,
             cause, t->first_line, last, t->first_line, mid - 1, mid, last);
    logf_(m, 1, "%s", msg);
    out->resolve(out, PH_OUTCOME_DONE, msg);
}

static void master_on_task_lost(void *master, ph_bytes task, ph_loss_reason reason,
                                const char *message, int will_retry,
                                const ph_response_sink *out) {
    pm_master *m = master;
    pm_task_view t;
    if (task.data == NULL || pm_task_decode(task, &t) != 0) return; /* an idle worker died */
    char cause[64];
    if (reason == PH_LOSS_WORKER_DIED || reason == PH_LOSS_EXPIRED || reason == PH_LOSS_OUT_OF_MEMORY) {
        death_cause(reason, message, cause, sizeof cause);
        if (t.n_lines > 1) {
            char why[96];
            snprintf(why, sizeof why, "worker lost (%s)", cause);
            split_chunk(m, &t, why, out);
            return;
        }
        if (will_retry) return; /* one item: the host's --retries give it another chance */
        char line[96];
        int n = snprintf(line, sizeof line, "#error: line %" PRIu64 ": %s\n", t.first_line, cause);
        keep_failure(m, t.first_line, cause, strlen(cause));
        account_of(m, t.first_line)->unrun_items++;
        deliver(m, t.first_line, 1, line, (size_t)n);
        char msg[1024];
        snprintf(msg, sizeof msg, "line %" PRIu64 ": %s: %s", t.first_line, cause,
                 message != NULL ? message : "");
        out->resolve(out, PH_OUTCOME_FAILED, msg);
        return;
    }
    /* Cancelled, no worker could start, orphaned: the lines are not run. will_retry is 0. */
    const char *why = reason == PH_LOSS_CANCELLED ? "cancelled"
                      : reason == PH_LOSS_SPAWN_FAILED ? "no worker could be started"
                                                       : "lost";
    snprintf(cause, sizeof cause, "not run: %s", why);
    fail_lines(m, &t, cause);
}

/*
 * A request that could not be made or sent (most often one over the host's frame limit, because
 * of an oversize line) or a response that could not be read. The chunk is bisected as after a
 * lost worker, so only the line that causes it fails, with the host's reason and its size.
 */
static void master_on_marshal_error(void *master, const char *message, ph_bytes task,
                                    const ph_response_sink *out) {
    pm_master *m = master;
    pm_task_view t;
    if (pm_task_decode(task, &t) != 0) return;
    const char *why = message != NULL ? message : "marshal error";
    if (t.n_lines > 1) {
        char cause[256];
        snprintf(cause, sizeof cause, "marshal error (%.200s)", why);
        split_chunk(m, &t, cause, out);
        account_of(m, t.first_line)->marshal_splits++;
        return;
    }
    size_t bytes = t.len;
    if (bytes > 0 && t.data[bytes - 1] == '\n') bytes--;
    char cause[320];
    snprintf(cause, sizeof cause, "not run: %.200s (the line is %zu bytes)", why, bytes);
    fail_lines(m, &t, cause);
    char msg[400];
    snprintf(msg, sizeof msg, "line %" PRIu64 ": %s", t.first_line, cause);
    out->resolve(out, PH_OUTCOME_FAILED, msg);
}

/* ---- the end ---- */

static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* CPU seconds (user + system) of the whole master process so far. */
static double master_cpu_seconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void master_finish(void *master, const ph_run_summary *summary, const ph_report_sink *out) {
    pm_master *m = master;
    (void)summary;
    if (m == NULL) return;
    int write_error = pm_output_flush(&m->out);
    /* Chunks not all written (a stopped run) count too. */
    for (; m->open_count > 0; m->open_count--, m->open_head = (m->open_head + 1) % m->open_cap)
        pm_account_merge(&m->total, &m->open[m->open_head].account);
    const pm_account *t = &m->total;
    pm_buf rep;
    pm_buf_init(&rep);
    pm_buf_printf(&rep,
                  "parmap: %" PRIu64 " items, %" PRIu64 " ok, %" PRIu64 " failed; %" PRIu64
                  " chunks, %" PRIu64 " splits after lost workers",
                  t->items + t->unrun_items, t->items + t->unrun_items - t->failed_items,
                  t->failed_items,
                  t->chunks, t->splits - t->marshal_splits);
    if (t->marshal_splits > 0)
        pm_buf_printf(&rep, ", %" PRIu64 " after marshal errors (oversize requests or responses)",
                      t->marshal_splits);
    pm_buf_add(&rep, "\n", 1);
    uint64_t listed = 0;
    for (size_t i = 0; i < t->n_fails; i++) {
        const pm_failure *f = &t->fails[i];
        if (f->last_line == f->line)
            pm_buf_printf(&rep, "parmap: failed line %" PRIu64 ": %s\n", f->line, f->message);
        else
            pm_buf_printf(&rep, "parmap: failed lines %" PRIu64 "-%" PRIu64 ": %s\n", f->line,
                          f->last_line, f->message);
        listed += f->last_line - f->line + 1;
    }
    if (t->failed_items > listed)
        pm_buf_printf(&rep, "parmap: (and %" PRIu64 " more failed items)\n",
                      t->failed_items - listed);
    if (m->in.error != 0)
        pm_buf_printf(&rep, "parmap: error: %s: reading failed after line %" PRIu64 ": %s\n",
                      m->input_name != NULL ? m->input_name : "the input", m->in.next_line - 1,
                      strerror(m->in.error));
    if (write_error != 0)
        pm_buf_printf(&rep, "parmap: error: cannot write the output: %s\n", strerror(write_error));
    if (m->stats)
        pm_buf_printf(&rep,
                      "parmap stats: fresh requests %" PRIu64 " (%" PRIu64 " bytes, chunks %" PRIu64
                      " bytes); old requests %" PRIu64 " (%" PRIu64 " bytes, chunks %" PRIu64
                      " bytes); peak outstanding chunks %zu of window %zu; peak held output "
                      "%zu bytes; master peak RSS %ld KiB; master CPU %.2f s\n",
                      t->fresh_requests, t->fresh_request_bytes, t->fresh_chunk_bytes,
                      t->old_requests, t->old_request_bytes, t->old_chunk_bytes,
                      m->peak_outstanding, m->window, m->out.peak_held_bytes, peak_rss_kib(),
                      master_cpu_seconds());
    pm_buf_add(&rep, "", 1);
    if (!rep.failed) {
        if (m->output_is_file && out != NULL && out->write != NULL) {
            out->write(out, (const char *)rep.p);
        } else { /* the output is on stdout: keep the report out of it */
            size_t n = rep.len - 1, off = 0;
            while (off < n) {
                ssize_t k = write(2, rep.p + off, n - off);
                if (k <= 0) break;
                off += (size_t)k;
            }
        }
    }
    pm_buf_free(&rep);
    if (out != NULL && out->set_exit_status != NULL && (t->failed_items > 0 || write_error != 0 || m->in.error != 0))
        out->set_exit_status(out, 1);
    master_free(m);
}

static void master_name_of_task(void *master, ph_bytes task, const ph_name_sink *out) {
    (void)master;
    pm_task_view t;
    if (pm_task_decode(task, &t) != 0) return;
    char name[64];
    snprintf(name, sizeof name, "lines %" PRIu64 "-%" PRIu64, t.first_line,
             t.first_line + t.n_lines - 1);
    out->set_name(out, name);
}

/* "ph.journal/1": a run can be replayed only with fixed chunks (adaptive ones follow the
   measured speed, so a resumed run would cut its input elsewhere); the input's identity is its
   size and modification time when it is a regular file. */
static int journal_replayable(void *master, const ph_error_sink *why) {
    const pm_master *m = master;
    if (m->fixed_chunk != 0) return 1;
    why->set_error(why, "adaptive chunks differ from run to run: give --chunk N");
    return 0;
}

static void journal_identity(void *master, const ph_request_sink *out) {
    const pm_master *m = master;
    struct stat st;
    if (!m->in_open || fstat(m->in.fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    char text[96];
    int n = snprintf(text, sizeof text, "%lld %lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
    if (n > 0) out->set_request(out, text, (size_t)n);
}

static const ph_plugin_journal PM_JOURNAL = {journal_replayable, journal_identity};

static int is_regular(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* "ph.checkpoint/1": ordered output to a regular file read from a regular file resumes from
   checkpoints (see pm_checkpoint.c); anything else is journaled by its responses. */
static int checkpoint_checkpointed(void *master) {
    pm_master *m = master;
    if (!m->fixed_chunk || !m->out.ordered || !m->output_is_file || !m->out.readable ||
        !is_regular(m->out.fd) || !is_regular(m->in.fd))
        return 0;
    m->checkpoints = m->host->get_extension(m->host, PH_EXT_CHECKPOINT);
    if (m->checkpoints == NULL) return 0;
    m->checkpointing = 1;
    return 1;
}

static int resume_error(pm_account *a, const ph_error_sink *why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int resume_error(pm_account *a, const ph_error_sink *why, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ph_set_errorv(why, fmt, ap);
    va_end(ap);
    pm_account_free(a);
    return 0;
}

static int checkpoint_resume(void *master, ph_bytes checkpoint, const ph_error_sink *why) {
    pm_master *m = master;
    pm_account a;
    memset(&a, 0, sizeof a);
    if (checkpoint.len == 0) return 1; /* none recorded: from the start */
    pm_checkpoint c;
    if (!m->checkpointing || pm_checkpoint_decode(checkpoint, &c, &a) != 0)
        return resume_error(&a, why, "the journal's checkpoint is not one of this run");
    struct stat st;
    uint64_t digest;
    if (fstat(m->out.fd, &st) != 0 || (uint64_t)st.st_size < c.output_offset)
        return resume_error(&a, why, "%.300s: --output holds %lld bytes, the journal records %" PRIu64
                            " written: not this run's output", m->output_name, (long long)st.st_size,
                            c.output_offset);
    if (pm_output_tail_digest(m->out.fd, c.output_offset, &digest) != 0 || digest != c.tail_digest)
        return resume_error(&a, why, "%.300s: --output differs from what the journal records before byte %"
                            PRIu64 ": not this run's output", m->output_name, c.output_offset);
    if (pm_input_seek(&m->in, c.input_offset, c.next_line) != 0)
        return resume_error(&a, why, "%.300s: cannot continue the input at byte %" PRIu64 ": %s",
                            m->input_name, c.input_offset, strerror(errno));
    if (pm_output_resume(&m->out, c.output_offset, c.next_line) != 0)
        return resume_error(&a, why, "%.300s: cannot continue the output at byte %" PRIu64 ": %s",
                            m->output_name, c.output_offset, strerror(errno));
    pm_account_free(&m->total);
    m->total = a;
    m->written = c;
    m->recorded_output = c.output_offset;
    if (m->progress != NULL) m->progress->advance(m->host, c.next_line - 1);
    return 1;
}

static const ph_plugin_checkpoint PM_CHECKPOINT = {checkpoint_checkpointed, checkpoint_resume};

static const void *master_get_extension(const char *id) {
    if (id != NULL && strcmp(id, PH_EXT_JOURNAL) == 0) return &PM_JOURNAL;
    if (id != NULL && strcmp(id, PH_EXT_CHECKPOINT) == 0) return &PM_CHECKPOINT;
    return NULL;
}

void pm_fill_master(ph_plugin_descriptor *d) {
    d->master_open = master_open;
    d->pull = master_pull;
    d->task_match = master_task_match;
    d->request_of_task = master_request_of_task;
    d->use_response = master_use_response;
    d->on_marshal_error = master_on_marshal_error;
    d->on_task_lost = master_on_task_lost;
    d->finish = master_finish;
    d->name_of_task = master_name_of_task;
    d->get_extension = master_get_extension;
}
