/*
 * chaos.c — the "chaos" fault-injection task kind used by PluginHost's tests and benchmarks.
 *
 * The task grammar, wire formats and report are documented in include/chaos_plugin.h.
 *
 * Design notes:
 *  - No global mutable state: the master instance is the struct returned by master_open, the
 *    worker instance the struct returned by worker_init. The only statics are const tables.
 *  - Every buffer received across the ABI is borrowed: whatever is kept is copied.
 *  - Text is built in `sbuf`, a small string builder with inline stack storage, so the hot
 *    paths (request_of_task / perform for `echo`) do not allocate for short texts.
 */
#if !defined(__APPLE__) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "include/chaos_plugin.h" /* found without -Iinclude too */
#include "plugin_abi.h"
#include "ph/ext/blobs.h"
#include "ph/ext/task-failure.h"
#include "ph/ext/journal.h"
#include "ph/util/options.h"
#include "fixture_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Small string builder                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;       /* points at `small` or at a heap block */
    size_t len;    /* bytes used, excluding the terminating NUL */
    size_t cap;    /* bytes available at p, including room for the NUL */
    int failed;    /* an allocation failed; the content is truncated */
    char small[512];
} sbuf;

static void sb_init(sbuf *b) {
    b->p = b->small;
    b->len = 0;
    b->cap = sizeof b->small;
    b->failed = 0;
    b->small[0] = '\0';
}

static void sb_free(sbuf *b) {
    if (b->p != b->small) free(b->p);
    sb_init(b);
}

static int sb_reserve(sbuf *b, size_t extra) {
    if (b->failed) return -1;
    if (extra > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap;
    while (cap < need) cap *= 2;
    char *n;
    if (b->p == b->small) {
        n = malloc(cap);
        if (n != NULL) memcpy(n, b->p, b->len + 1);
    } else {
        n = realloc(b->p, cap);
    }
    if (n == NULL) {
        b->failed = 1;
        return -1;
    }
    b->p = n;
    b->cap = cap;
    return 0;
}

static void sb_add(sbuf *b, const void *data, size_t n) {
    if (n == 0 || sb_reserve(b, n) != 0) return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_adds(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_addu(sbuf *b, uint64_t v) {
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRIu64, v);
    if (n > 0) sb_add(b, t, (size_t)n);
}

/* Appends at most `max` bytes of data, then "..." if it was longer. */
static void sb_add_clipped(sbuf *b, const void *data, size_t n, size_t max) {
    if (n <= max) {
        sb_add(b, data, n);
    } else {
        sb_add(b, data, max);
        sb_adds(b, "...");
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum action_id {
    A_ECHO,
    A_SEGV,
    A_ABORT,
    A_EXIT,
    A_NOISY_DEATH,
    A_HANG,
    A_SLEEP,
    A_GARBAGE,
    A_STDOUT,
    A_PRINTF,
    A_LEAK,
    A_FEEDBACK,
    A_FOLLOWUP,
    A_FOLLOWUP_DIE,
    A_STATE,
    A_STATE_DIE,
    A_CRASH_ONCE,
    A_KILL_MASTER,
    A_BADRESP,
    A_DEATH_LOCAL,
    A_STAY,
    A_FAIL,
    A_BROADCAST,
    A_LASTBROADCAST,
    A_OBSOLETE,
    A_MARSHAL,
    A_MARSHAL_LOCAL,
    A_BLOB,
    A_ESCAPE,
    A_GROW,
    A_ALLOC,
    A_MASTER_SEGV,
    A_TASKFAIL,
    A_MASTER_SLEEP,
    A_LOG,
    A_WAIT,
    A_SPEW,
    A_UNKNOWN,
} action_id;

typedef enum arg_kind {
    ARG_NONE,     /* no ':' allowed */
    ARG_OPTIONAL, /* free text, may be absent or empty */
    ARG_REQUIRED, /* free text, non-empty */
    ARG_NUMBER,   /* decimal unsigned in [min, max] */
    ARG_STATE,    /* K@P: K unsigned, P positive */
} arg_kind;

typedef struct action_info {
    const char *name;
    action_id id;
    arg_kind kind;
    uint64_t min, max;
    const char *form; /* for error messages */
} action_info;

/* Ordered roughly by how hot they are: echo first. */
static const action_info ACTIONS[] = {
    {"echo", A_ECHO, ARG_OPTIONAL, 0, 0, "echo[:TEXT]"},
    {"sleep", A_SLEEP, ARG_NUMBER, 0, UINT32_MAX, "sleep:MS"},
    {"feedback", A_FEEDBACK, ARG_NUMBER, 0, 1000000, "feedback:N"},
    {"segv", A_SEGV, ARG_NONE, 0, 0, "segv"},
    {"abort", A_ABORT, ARG_NONE, 0, 0, "abort"},
    {"exit", A_EXIT, ARG_NUMBER, 0, 255, "exit:N (0..255)"},
    {"noisy-death", A_NOISY_DEATH, ARG_NONE, 0, 0, "noisy-death"},
    {"hang", A_HANG, ARG_NONE, 0, 0, "hang"},
    {"garbage", A_GARBAGE, ARG_NONE, 0, 0, "garbage"},
    {"stdout", A_STDOUT, ARG_OPTIONAL, 0, 0, "stdout[:TEXT]"},
    {"printf", A_PRINTF, ARG_OPTIONAL, 0, 0, "printf[:TEXT]"},
    {"leak", A_LEAK, ARG_NUMBER, 0, 1048576, "leak:MB"},
    {"spew", A_SPEW, ARG_NUMBER, 0, 1048576, "spew:KB"},
    {"followup", A_FOLLOWUP, ARG_NUMBER, 1, UINT32_MAX, "followup:K (K >= 1)"},
    {"followup-die", A_FOLLOWUP_DIE, ARG_NUMBER, 1, UINT32_MAX, "followup-die:K (K >= 1)"},
    {"state", A_STATE, ARG_STATE, 0, 0, "state:K@PID"},
    {"state-die", A_STATE_DIE, ARG_STATE, 0, 0, "state-die:K@PID"},
    {"crash-once", A_CRASH_ONCE, ARG_REQUIRED, 0, 0, "crash-once:PATH"},
    {"kill-master", A_KILL_MASTER, ARG_REQUIRED, 0, 0, "kill-master:PATH"},
    {"badresp", A_BADRESP, ARG_NONE, 0, 0, "badresp"},
    {"death-local", A_DEATH_LOCAL, ARG_NONE, 0, 0, "death-local"},
    {"stay", A_STAY, ARG_REQUIRED, 0, 0, "stay:COMPETENCE"},
    {"fail", A_FAIL, ARG_OPTIONAL, 0, 0, "fail[:MSG]"},
    {"broadcast", A_BROADCAST, ARG_OPTIONAL, 0, 0, "broadcast[:TEXT]"},
    {"lastbroadcast", A_LASTBROADCAST, ARG_NONE, 0, 0, "lastbroadcast"},
    {"obsolete", A_OBSOLETE, ARG_NONE, 0, 0, "obsolete"},
    {"marshal", A_MARSHAL, ARG_NONE, 0, 0, "marshal"},
    {"marshal-local", A_MARSHAL_LOCAL, ARG_NONE, 0, 0, "marshal-local"},
    {"blob", A_BLOB, ARG_REQUIRED, 0, 0, "blob:PATH"},
    {"escape", A_ESCAPE, ARG_REQUIRED, 0, 0, "escape:PATH"},
    {"grow", A_GROW, ARG_NUMBER, 1, 1048576, "grow:MB (MB >= 1)"},
    {"alloc", A_ALLOC, ARG_NUMBER, 1, 1048576, "alloc:MB (MB >= 1)"},
    {"master-segv", A_MASTER_SEGV, ARG_OPTIONAL, 0, 0, "master-segv[:use_response]"},
    {"taskfail", A_TASKFAIL, ARG_OPTIONAL, 0, 0, "taskfail[:MSG]"},
    {"log", A_LOG, ARG_REQUIRED, 0, 0, "log:LEVEL:TEXT"},
    {"master-sleep", A_MASTER_SLEEP, ARG_NUMBER, 0, 60000, "master-sleep:MS (0..60000)"},
    {"wait", A_WAIT, ARG_REQUIRED, 0, 0, "wait:PATH"},
};

#define N_ACTIONS (sizeof ACTIONS / sizeof ACTIONS[0])

static const action_info *find_action(const char *name, size_t len) {
    for (size_t i = 0; i < N_ACTIONS; i++) {
        const char *a = ACTIONS[i].name;
        if (strlen(a) == len && memcmp(a, name, len) == 0) return &ACTIONS[i];
    }
    return NULL;
}

/* An action text "NAME[:ARG]" split into views (nothing is copied). */
typedef struct action_view {
    const char *text;
    size_t text_len;
    const char *name;
    size_t name_len;
    const char *arg; /* never NULL: points at "" when absent */
    size_t arg_len;
    int has_arg;
    action_id id;
} action_view;

static void split_action(const char *text, size_t len, action_view *v) {
    v->text = text;
    v->text_len = len;
    v->name = text;
    const char *colon = len > 0 ? memchr(text, ':', len) : NULL;
    if (colon != NULL) {
        v->name_len = (size_t)(colon - text);
        v->arg = colon + 1;
        v->arg_len = len - v->name_len - 1;
        v->has_arg = 1;
    } else {
        v->name_len = len;
        v->arg = "";
        v->arg_len = 0;
        v->has_arg = 0;
    }
    const action_info *info = find_action(v->name, v->name_len);
    v->id = info != NULL ? info->id : A_UNKNOWN;
}

/* Parses a decimal unsigned number that fills exactly s[0..n). */
static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out) {
    if (n == 0) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > max) return -1;
    *out = v;
    return 0;
}

/* Splits "K@P" into its two numeric parts (views). */
static int split_state_arg(const char *arg, size_t len, const char **k, size_t *klen,
                           const char **p, size_t *plen) {
    const char *at = len > 0 ? memchr(arg, '@', len) : NULL;
    if (at == NULL) return -1;
    *k = arg;
    *klen = (size_t)(at - arg);
    *p = at + 1;
    *plen = len - *klen - 1;
    return 0;
}

/* Checks an action text; on error writes one line to err and returns -1. */
static int validate_action(const char *text, size_t len, char *err, size_t errlen) {
    action_view v;
    split_action(text, len, &v);
    const action_info *info = find_action(v.name, v.name_len);
    int nl = v.name_len > 200 ? 200 : (int)v.name_len;
    int tl = len > 200 ? 200 : (int)len;
    if (info == NULL) {
        if (v.name_len == 0)
            snprintf(err, errlen, "missing chaos action in '%.*s'", tl, text);
        else
            snprintf(err, errlen, "unknown chaos action '%.*s'", nl, v.name);
        return -1;
    }
    uint64_t num;
    switch (info->kind) {
    case ARG_NONE:
        if (v.has_arg) {
            snprintf(err, errlen, "chaos action '%s' takes no argument, got '%.*s'", info->name,
                     tl, text);
            return -1;
        }
        return 0;
    case ARG_OPTIONAL:
        return 0;
    case ARG_REQUIRED:
        if (v.arg_len == 0) {
            snprintf(err, errlen, "chaos action '%s' needs an argument: %s", info->name,
                     info->form);
            return -1;
        }
        if (info->id == A_STAY && memchr(v.arg, '|', v.arg_len) != NULL) {
            snprintf(err, errlen, "chaos competence must not contain '|': '%.*s'", tl, text);
            return -1;
        }
        return 0;
    case ARG_NUMBER:
        if (parse_u64(v.arg, v.arg_len, info->max, &num) != 0 || num < info->min) {
            snprintf(err, errlen, "bad number in '%.*s', expected %s", tl, text, info->form);
            return -1;
        }
        return 0;
    case ARG_STATE: {
        const char *k, *p;
        size_t klen, plen;
        uint64_t kv, pv;
        if (split_state_arg(v.arg, v.arg_len, &k, &klen, &p, &plen) != 0 ||
            parse_u64(k, klen, UINT32_MAX, &kv) != 0 || parse_u64(p, plen, INT32_MAX, &pv) != 0 ||
            pv == 0) {
            snprintf(err, errlen, "bad argument in '%.*s', expected %s", tl, text, info->form);
            return -1;
        }
        return 0;
    }
    }
    return 0;
}

/* A task's bytes: "#SEQ ACTION[:ARG]". */
typedef struct task_view {
    uint64_t seq;
    action_view a;
} task_view;

static int parse_task(ph_bytes b, task_view *t) {
    const char *s = (const char *)b.data;
    size_t n = b.len;
    memset(t, 0, sizeof *t);
    t->a.id = A_UNKNOWN;
    t->a.arg = "";
    t->a.text = "";
    t->a.name = "";
    if (s == NULL || n < 3 || s[0] != '#') return -1;
    size_t i = 1;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == 1 || i >= n || s[i] != ' ') return -1;
    if (parse_u64(s + 1, i - 1, UINT64_MAX, &t->seq) != 0) return -1;
    i++;
    split_action(s + i, n - i, &t->a);
    return 0;
}

static int view_is(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    return n == l && memcmp(s, lit, l) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Master side                                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct chaos_spec {
    int32_t priority;
    uint32_t timeout_ms;
    char *action; /* "NAME[:ARG]", owned */
    size_t len;
} chaos_spec;

/* Feedback forwarded by one worker for its current task. */
typedef struct fb_record {
    char *worker;        /* owned */
    uint64_t total;      /* messages received */
    uint64_t in_order;   /* length of the fb1..fbK prefix received */
    int out_of_order;    /* a message broke the fb1, fb2, ... sequence */
    char arrived[160];   /* "fb1,fb2,..." (clipped) */
    size_t arrived_len;
    int clipped;
} fb_record;

#define LOSS_BUCKETS 7 /* the six ph_loss_reason values + "other" */

typedef struct chaos_master {
    const ph_master_host *host; /* valid from open until finish */
    ph_policy policy;

    chaos_spec *specs;
    size_t nspecs, spec_cap;
    uint64_t repeat;
    int pull_mode;
    int not_replayable; /* --not-replayable: "ph.journal/1" says it cannot be replayed */
    uint64_t total; /* nspecs * repeat */
    uint64_t next;  /* next index in [0, total) to push */
    uint64_t seq;   /* next sequence number == tasks pushed so far (follow-ups included) */

    fb_record *fbs;
    size_t nfbs, fb_cap;

    uint64_t feedback_msgs;
    uint64_t lost[LOSS_BUCKETS];
    uint64_t lost_total;
    uint64_t marshal_errors;
} chaos_master;

static void master_free(chaos_master *m) {
    if (m == NULL) return;
    for (size_t i = 0; i < m->nspecs; i++) free(m->specs[i].action);
    free(m->specs);
    for (size_t i = 0; i < m->nfbs; i++) free(m->fbs[i].worker);
    free(m->fbs);
    free(m);
}

static void *usage_error(chaos_master *m, const ph_error_sink *errors, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *usage_error(chaos_master *m, const ph_error_sink *errors, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ph_set_errorv(errors, fmt, ap);
    va_end(ap);
    master_free(m);
    return NULL;
}

/* Parses a signed or unsigned decimal token ending at a blank; advances *pp past the blanks. */
static int parse_prefix_number(const char **pp, int allow_sign, int64_t lo, int64_t hi,
                               int64_t *out) {
    const char *p = *pp;
    int neg = 0;
    if (allow_sign && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    const char *digits = p;
    while (*p >= '0' && *p <= '9') p++;
    uint64_t v;
    if (parse_u64(digits, (size_t)(p - digits), (uint64_t)INT64_MAX, &v) != 0) return -1;
    if (*p != ' ' && *p != '\t') return -1; /* the action must follow after a blank */
    while (*p == ' ' || *p == '\t') p++;
    int64_t sv = neg ? -(int64_t)v : (int64_t)v;
    if (sv < lo || sv > hi) return -1;
    *out = sv;
    *pp = p;
    return 0;
}

/* Parses one TASK spec into `out` (action copied); on error writes one line to err. */
static int parse_spec(const char *spec, chaos_spec *out, char *err, size_t errlen) {
    const char *p = spec;
    int64_t v;
    out->priority = 0;
    out->timeout_ms = 0;
    out->action = NULL;
    if (*p == '!') {
        p++;
        if (parse_prefix_number(&p, 1, INT32_MIN, INT32_MAX, &v) != 0) {
            snprintf(err, errlen, "bad priority in task spec '%.200s' (expected '!PRIO ACTION')",
                     spec);
            return -1;
        }
        out->priority = (int32_t)v;
    }
    if (*p == '@') {
        p++;
        if (parse_prefix_number(&p, 0, 0, UINT32_MAX, &v) != 0) {
            snprintf(err, errlen,
                     "bad timeout in task spec '%.200s' (expected '@MILLISECONDS ACTION')", spec);
            return -1;
        }
        out->timeout_ms = (uint32_t)v;
    }
    if (*p == '\0') {
        snprintf(err, errlen, "missing chaos action in task spec '%.200s'", spec);
        return -1;
    }
    size_t len = strlen(p);
    if (validate_action(p, len, err, errlen) != 0) return -1;
    out->action = malloc(len + 1);
    if (out->action == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out->action, p, len + 1);
    out->len = len;
    return 0;
}

static int add_spec(chaos_master *m, const chaos_spec *s) {
    if (m->nspecs == m->spec_cap) {
        size_t cap = m->spec_cap ? m->spec_cap * 2 : 16;
        chaos_spec *n = realloc(m->specs, cap * sizeof *n);
        if (n == NULL) return -1;
        m->specs = n;
        m->spec_cap = cap;
    }
    m->specs[m->nspecs++] = *s;
    return 0;
}

/* Reads specs from a file; on error writes one line to err and returns -1. */
static int read_spec_file(chaos_master *m, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read task file '%.300s': %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    size_t lineno = 0;
    int rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *s = line;
        size_t n = strlen(s); /* stop at an embedded NUL, if any */
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                         s[n - 1] == '\t'))
            s[--n] = '\0';
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '\0' || *s == '#') continue;
        chaos_spec spec;
        char why[512];
        if (parse_spec(s, &spec, why, sizeof why) != 0) {
            snprintf(err, errlen, "%.300s:%zu: %.600s", path, lineno, why);
            rc = -1;
            break;
        }
        if (add_spec(m, &spec) != 0) {
            free(spec.action);
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read task file '%.300s': %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Queues "#SEQ ACTION" through the host (initial tasks) or a response sink (follow-ups). */
static void build_task(chaos_master *m, sbuf *b, const char *action, size_t len) {
    sb_init(b);
    sb_add(b, "#", 1);
    sb_addu(b, m->seq);
    sb_add(b, " ", 1);
    sb_add(b, action, len);
    m->seq++;
}

static void push_next(chaos_master *m) {
    const chaos_spec *s = &m->specs[m->next % m->nspecs];
    m->next++;
    sbuf b;
    build_task(m, &b, s->action, s->len);
    if (!b.failed) m->host->push_task(m->host, b.p, b.len, s->priority, s->timeout_ms);
    sb_free(&b);
}

static void *master_open(const ph_master_host *host, const ph_open_params *params,
                         const ph_error_sink *errors) {
    chaos_master *m = calloc(1, sizeof *m);
    if (m == NULL) return usage_error(NULL, errors, "out of memory");
    if (host == NULL || params == NULL || host->push_task == NULL)
        return usage_error(m, errors, "master_open called without a host");
    /* ABI 2: every host table has get_extension, and an unknown id gives NULL. */
    if (host->get_extension == NULL || host->get_extension(host, "chaos.none/1") != NULL)
        return usage_error(m, errors, "the host table breaks ABI 2 (get_extension)");
    m->host = host;
    m->policy = params->policy;
    m->repeat = 1;

    char err[1024];
    int only_specs = 0;
    int argc = params->argv != NULL ? params->argc : 0;
    for (int i = 1; i < argc; i++) {
        const char *a = params->argv[i];
        if (a == NULL) continue;
        if (!only_specs && a[0] == '-') {
            const char *val;
            if (strcmp(a, "--") == 0) {
                only_specs = 1;
            } else if (strcmp(a, "--pull") == 0) {
                m->pull_mode = 1;
            } else if (strcmp(a, "--not-replayable") == 0) {
                m->not_replayable = 1;
            } else if (ph_option_value(params, &i, "--repeat", &val)) {
                if (val == NULL) return usage_error(m, errors, "--repeat needs a value");
                if (parse_u64(val, strlen(val), UINT32_MAX, &m->repeat) != 0)
                    return usage_error(m, errors, "--repeat: bad number '%.200s'", val);
            } else if (ph_option_value(params, &i, "--file", &val)) {
                if (val == NULL) return usage_error(m, errors, "--file needs a value");
                if (read_spec_file(m, val, err, sizeof err) != 0)
                    return usage_error(m, errors, "%s", err);
            } else {
                return usage_error(m, errors, "unknown option '%.200s'", a);
            }
            continue;
        }
        chaos_spec spec;
        if (parse_spec(a, &spec, err, sizeof err) != 0) return usage_error(m, errors, "%s", err);
        if (add_spec(m, &spec) != 0) {
            free(spec.action);
            return usage_error(m, errors, "out of memory");
        }
    }

    if (m->nspecs > 0 && m->repeat > UINT64_MAX / m->nspecs)
        return usage_error(m, errors, "--repeat: too many tasks");
    m->total = (uint64_t)m->nspecs * m->repeat;
    if (!m->pull_mode) {
        while (m->next < m->total) push_next(m);
    }
    return m;
}

static int master_pull(void *master, uint32_t max) {
    chaos_master *m = master;
    for (uint32_t k = 0; k < max && m->next < m->total; k++) push_next(m);
    return m->next < m->total ? 1 : 0;
}

static int master_task_match(void *master, const ph_worker_status *status, ph_bytes task) {
    (void)master;
    task_view t;
    if (parse_task(task, &t) != 0) return 1;
    if (t.a.id != A_STATE && t.a.id != A_STATE_DIE) return 1;
    if (status == NULL || !status->is_old) return 0;
    const char *k, *p;
    size_t klen, plen;
    if (split_state_arg(t.a.arg, t.a.arg_len, &k, &klen, &p, &plen) != 0) return 0;
    const uint8_t *c = status->competence.data;
    size_t clen = status->competence.len;
    return c != NULL && clen == 5 + plen && memcmp(c, "held:", 5) == 0 &&
           memcmp(c + 5, p, plen) == 0;
}

/* blob:PATH: the master publishes PATH and sends the worker a reference to it, in hex. */
static ph_request_result blob_request(void *master, const ph_worker_status *status, const task_view *t,
                                      const ph_request_sink *out) {
    chaos_master *m = master;
    const ph_master_blobs *blobs = m->host->get_extension(m->host, PH_EXT_BLOBS);
    char path[PATH_MAX];
    if (blobs == NULL || t->a.arg_len >= sizeof path || status == NULL || status->worker_name == NULL) {
        out->set_marshal_error(out, "chaos: blob: no blob support here");
        return PH_REQUEST_READY;
    }
    memcpy(path, t->a.arg, t->a.arg_len);
    path[t->a.arg_len] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t id = fd >= 0 ? blobs->publish_fd(m->host, fd) : 0;
    if (fd >= 0) close(fd);
    uint8_t reference[PH_BLOB_REFERENCE_MAX];
    size_t len = id ? blobs->reference(m->host, id, status->worker_name, reference, sizeof reference) : 0;
    if (len == 0) {
        out->set_marshal_error(out, "chaos: blob: cannot publish the file");
        return PH_REQUEST_READY;
    }
    sbuf b;
    sb_init(&b);
    sb_adds(&b, "F|blob:");
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        char pair[2] = {digits[reference[i] >> 4], digits[reference[i] & 15]};
        sb_add(&b, pair, 2);
    }
    if (b.failed) out->set_marshal_error(out, "chaos: out of memory");
    else out->set_request(out, b.p, b.len);
    sb_free(&b);
    return PH_REQUEST_READY;
}

static ph_request_result master_request_of_task(void *master, const ph_worker_status *status,
                                                ph_bytes task, const ph_request_sink *out) {
    (void)master;
    task_view t;
    if (parse_task(task, &t) != 0) {
        out->set_marshal_error(out, "chaos: malformed task");
        return PH_REQUEST_READY;
    }
    switch (t.a.id) {
    case A_MASTER_SEGV:
        if (!view_is(t.a.arg, t.a.arg_len, "use_response")) raise(SIGSEGV);
        break;
    case A_MASTER_SLEEP: {
        /* Holds the host: request_of_task runs under the scheduler's lock. */
        uint64_t ms = 0;
        (void)parse_u64(t.a.arg, t.a.arg_len, 60000, &ms);
        struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
        }
        break;
    }
    case A_OBSOLETE:
        return PH_REQUEST_OBSOLETE;
    case A_BLOB:
        return blob_request(master, status, &t, out);
    case A_MARSHAL:
    case A_MARSHAL_LOCAL:
        out->set_marshal_error(out, "chaos: cannot encode request");
        return PH_REQUEST_READY;
    default:
        break;
    }
    sbuf b;
    sb_init(&b);
    if (status != NULL && status->is_old) {
        sb_add(&b, "O:", 2);
        if (status->competence.data != NULL)
            sb_add(&b, status->competence.data, status->competence.len);
    } else {
        sb_add(&b, "F", 1);
    }
    sb_add(&b, "|", 1);
    sb_add(&b, t.a.text, t.a.text_len);
    if (b.failed)
        out->set_marshal_error(out, "chaos: out of memory");
    else
        out->set_request(out, b.p, b.len);
    sb_free(&b);
    return PH_REQUEST_READY;
}

/* Reads "pid=P" at the start of a response. */
static int response_pid(const char *r, size_t n, uint64_t *pid) {
    if (n < 5 || memcmp(r, "pid=", 4) != 0) return -1;
    size_t i = 4;
    while (i < n && r[i] >= '0' && r[i] <= '9') i++;
    return parse_u64(r + 4, i - 4, UINT64_MAX, pid);
}

static int ends_with(const char *s, size_t n, const char *a, size_t alen, const char *b,
                     size_t blen) {
    if (n < alen + blen) return 0;
    return memcmp(s + n - alen - blen, a, alen) == 0 && memcmp(s + n - blen, b, blen) == 0;
}

static fb_record *find_fb(chaos_master *m, const char *worker, size_t len, int create) {
    for (size_t i = 0; i < m->nfbs; i++) {
        if (strlen(m->fbs[i].worker) == len && memcmp(m->fbs[i].worker, worker, len) == 0)
            return &m->fbs[i];
    }
    if (!create) return NULL;
    if (m->nfbs == m->fb_cap) {
        size_t cap = m->fb_cap ? m->fb_cap * 2 : 8;
        fb_record *n = realloc(m->fbs, cap * sizeof *n);
        if (n == NULL) return NULL;
        m->fbs = n;
        m->fb_cap = cap;
    }
    fb_record *r = &m->fbs[m->nfbs];
    memset(r, 0, sizeof *r);
    r->worker = malloc(len + 1);
    if (r->worker == NULL) return NULL;
    memcpy(r->worker, worker, len);
    r->worker[len] = '\0';
    m->nfbs++;
    return r;
}

static void drop_fb(chaos_master *m, fb_record *r) {
    size_t i = (size_t)(r - m->fbs);
    free(r->worker);
    m->fbs[i] = m->fbs[m->nfbs - 1];
    m->nfbs--;
}

static void master_forward_feedback(void *master, const char *worker_name, ph_bytes fb) {
    chaos_master *m = master;
    m->feedback_msgs++;
    const char *w = worker_name != NULL ? worker_name : "";
    fb_record *r = find_fb(m, w, strlen(w), 1);
    if (r == NULL) return;
    r->total++;
    char want[32];
    int wl = snprintf(want, sizeof want, "fb%" PRIu64, r->in_order + 1);
    const char *d = fb.data != NULL ? (const char *)fb.data : "";
    if (!r->out_of_order && wl > 0 && fb.len == (size_t)wl && memcmp(d, want, fb.len) == 0)
        r->in_order++;
    else
        r->out_of_order = 1;
    /* Remember what arrived, clipped, for the failure message. */
    size_t room = sizeof r->arrived - 1;
    size_t need = fb.len + (r->arrived_len > 0 ? 1 : 0);
    if (r->clipped || r->arrived_len + need > room - 4) {
        r->clipped = 1;
        return;
    }
    if (r->arrived_len > 0) r->arrived[r->arrived_len++] = ',';
    for (size_t i = 0; i < fb.len; i++) {
        char c = d[i];
        r->arrived[r->arrived_len++] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    r->arrived[r->arrived_len] = '\0';
}

/* Judges a feedback:N response "pid=P S sent N by WORKER". The host names the responding
   worker in status->worker_name; it must be the worker that says it sent the feedback. */
static void check_feedback(chaos_master *m, const ph_worker_status *status, const task_view *t,
                           const char *resp, size_t n, const ph_response_sink *out) {
    uint64_t want = 0;
    parse_u64(t->a.arg, t->a.arg_len, UINT64_MAX, &want);
    const char *by = NULL;
    for (size_t i = n >= 4 ? n - 4 + 1 : 0; i-- > 0;) {
        if (memcmp(resp + i, " by ", 4) == 0) {
            by = resp + i;
            break;
        }
    }
    if (by == NULL) {
        sbuf b;
        sb_init(&b);
        sb_adds(&b, "chaos: feedback response without a worker name: ");
        sb_add_clipped(&b, resp, n, 200);
        out->resolve(out, PH_OUTCOME_FAILED, b.p);
        sb_free(&b);
        return;
    }
    const char *worker = by + 4;
    size_t wlen = n - (size_t)(worker - resp);
    const char *named = status != NULL ? status->worker_name : NULL;
    if (named == NULL || strlen(named) != wlen || memcmp(named, worker, wlen) != 0) {
        sbuf b;
        sb_init(&b);
        sb_adds(&b, "chaos: status->worker_name (");
        sb_adds(&b, named != NULL ? named : "NULL");
        sb_adds(&b, ") is not the responding worker (");
        sb_add_clipped(&b, worker, wlen, 100);
        sb_adds(&b, ")");
        out->resolve(out, PH_OUTCOME_FAILED, b.p);
        sb_free(&b);
        return;
    }
    fb_record *r = find_fb(m, worker, wlen, 0);
    uint64_t total = r ? r->total : 0;
    int ok = r != NULL ? (!r->out_of_order && r->in_order == want && r->total == want)
                       : want == 0;
    sbuf b;
    sb_init(&b);
    if (ok) {
        sb_adds(&b, "feedback ");
        sb_addu(&b, want);
        sb_adds(&b, " in order");
        out->resolve(out, PH_OUTCOME_DONE, b.p);
    } else {
        sb_adds(&b, "chaos: expected feedback fb1..fb");
        sb_addu(&b, want);
        sb_adds(&b, " in order from ");
        sb_add_clipped(&b, worker, wlen, 100);
        sb_adds(&b, ", got ");
        sb_addu(&b, total);
        sb_adds(&b, r != NULL && r->arrived_len > 0 ? ": " : "");
        if (r != NULL) {
            sb_add(&b, r->arrived, r->arrived_len);
            if (r->clipped) sb_adds(&b, ",...");
        }
        out->resolve(out, PH_OUTCOME_FAILED, b.p);
    }
    sb_free(&b);
    if (r != NULL) drop_fb(m, r); /* reset per task */
}

static void stay_chaos(const chaos_master *m, const ph_response_sink *out) {
    if (m->policy == PH_POLICY_PERSISTENT) out->stay(out, "chaos", 5);
}

static void master_use_response(void *master, const ph_worker_status *status, ph_bytes task,
                                ph_bytes response, const ph_response_sink *out) {
    chaos_master *m = master;
    (void)status;
    task_view t;
    if (parse_task(task, &t) != 0) {
        out->resolve(out, PH_OUTCOME_FAILED, "chaos: malformed task");
        return;
    }
    const char *resp = response.data != NULL ? (const char *)response.data : "";
    size_t n = response.len;
    sbuf text; /* the response as a C string */
    sb_init(&text);
    sb_add(&text, resp, n);

    switch (t.a.id) {
    case A_MASTER_SEGV:
        raise(SIGSEGV); /* (request_of_task crashed already unless the argument says here) */
        break;

    case A_STAY:
        out->stay(out, t.a.arg, t.a.arg_len);
        out->resolve(out, PH_OUTCOME_DONE, text.p);
        break;

    case A_FAIL: {
        sbuf msg;
        sb_init(&msg);
        if (t.a.has_arg)
            sb_add(&msg, t.a.arg, t.a.arg_len);
        else
            sb_adds(&msg, "chaos: failed");
        stay_chaos(m, out);
        out->resolve(out, PH_OUTCOME_FAILED, msg.p);
        sb_free(&msg);
        break;
    }

    case A_FOLLOWUP:
    case A_FOLLOWUP_DIE: {
        uint64_t pid, k;
        if (response_pid(resp, n, &pid) != 0 ||
            parse_u64(t.a.arg, t.a.arg_len, UINT64_MAX, &k) != 0 || k == 0 ||
            !ends_with(resp, n, " failed-at ", 11, t.a.arg, t.a.arg_len)) {
            sbuf msg;
            sb_init(&msg);
            sb_adds(&msg, "chaos: unexpected followup response: ");
            sb_add_clipped(&msg, resp, n, 200);
            out->resolve(out, PH_OUTCOME_FAILED, msg.p);
            sb_free(&msg);
            break;
        }
        sbuf comp;
        sb_init(&comp);
        sb_adds(&comp, "held:");
        sb_addu(&comp, pid);
        out->stay(out, comp.p, comp.len);
        sb_free(&comp);

        sbuf action;
        sb_init(&action);
        sb_adds(&action, t.a.id == A_FOLLOWUP ? "state:" : "state-die:");
        sb_addu(&action, k - 1);
        sb_adds(&action, "@");
        sb_addu(&action, pid);
        sbuf follow;
        build_task(m, &follow, action.p, action.len);
        out->push_task(out, follow.p, follow.len, -1);
        sb_free(&follow);
        sb_free(&action);
        out->resolve(out, PH_OUTCOME_DONE, text.p);
        break;
    }

    case A_STATE:
    case A_STATE_DIE: {
        /* Must have run on the worker that asked for it; the worker then ends (no stay). */
        const char *k = "", *p = "";
        size_t klen = 0, plen = 0;
        uint64_t want_pid = 0, got_pid = 0;
        int ok = split_state_arg(t.a.arg, t.a.arg_len, &k, &klen, &p, &plen) == 0 &&
                 parse_u64(p, plen, UINT64_MAX, &want_pid) == 0 &&
                 response_pid(resp, n, &got_pid) == 0 && got_pid == want_pid;
        if (ok) {
            out->resolve(out, PH_OUTCOME_DONE, text.p);
        } else {
            sbuf msg;
            sb_init(&msg);
            sb_adds(&msg, "chaos: state task for pid ");
            sb_add_clipped(&msg, p, plen, 40);
            sb_adds(&msg, " ran elsewhere: ");
            sb_add_clipped(&msg, resp, n, 200);
            out->resolve(out, PH_OUTCOME_FAILED, msg.p);
            sb_free(&msg);
        }
        break;
    }

    case A_FEEDBACK:
        stay_chaos(m, out);
        check_feedback(m, status, &t, resp, n, out);
        break;

    case A_LOG: {
        /* "LEVEL:TEXT": the level is the first character (0..3), the text follows its ':'. */
        uint32_t level = t.a.arg_len > 0 && t.a.arg[0] >= '0' && t.a.arg[0] <= '3' ? (uint32_t)(t.a.arg[0] - '0') : 1;
        sbuf line;
        sb_init(&line);
        if (t.a.arg_len > 2) sb_add(&line, t.a.arg + 2, t.a.arg_len - 2);
        if (!line.failed) m->host->log(m->host, level, line.p != NULL ? line.p : "");
        sb_free(&line);
        stay_chaos(m, out);
        out->resolve(out, PH_OUTCOME_DONE, text.p);
        break;
    }

    case A_BROADCAST:
        stay_chaos(m, out);
        if (m->host->broadcast != NULL) m->host->broadcast(m->host, t.a.arg, t.a.arg_len);
        out->resolve(out, PH_OUTCOME_DONE, text.p);
        break;

    default:
        stay_chaos(m, out);
        out->resolve(out, PH_OUTCOME_DONE, text.p);
        break;
    }
    sb_free(&text);
}

static void master_on_marshal_error(void *master, const char *message, ph_bytes task,
                                    const ph_response_sink *out) {
    chaos_master *m = master;
    m->marshal_errors++;
    task_view t;
    if (parse_task(task, &t) != 0) return;
    if (t.a.id == A_MARSHAL_LOCAL) {
        sbuf msg;
        sb_init(&msg);
        sb_adds(&msg, "ran in master: ");
        sb_adds(&msg, message != NULL ? message : "");
        out->resolve(out, PH_OUTCOME_DONE, msg.p);
        sb_free(&msg);
    }
}

static void master_on_task_lost(void *master, ph_bytes task, ph_loss_reason reason,
                                const char *message, int will_retry,
                                const ph_response_sink *out) {
    chaos_master *m = master;
    (void)message;
    m->lost_total++;
    unsigned r = (unsigned)reason;
    m->lost[r < LOSS_BUCKETS - 1 ? r : LOSS_BUCKETS - 1]++;
    task_view t;
    if (task.data == NULL || task.len == 0 || parse_task(task, &t) != 0) return;
    if (t.a.id == A_DEATH_LOCAL && !will_retry)
        out->resolve(out, PH_OUTCOME_DONE, "ran in master after loss");
}

static void master_finish(void *master, const ph_run_summary *summary, const ph_report_sink *out) {
    chaos_master *m = master;
    if (m == NULL) return;
    ph_run_summary s = {0, 0, 0, 0, 0};
    if (summary != NULL) s = *summary;
    if (out != NULL && out->write != NULL) {
        char line[512];
        snprintf(line, sizeof line,
                 "chaos: %" PRIu64 " tasks, done %" PRIu64 ", failed %" PRIu64
                 ", cancelled %" PRIu64 ", expired %" PRIu64 ", skipped %" PRIu64
                 ", feedback %" PRIu64 ", lost %" PRIu64 "\n",
                 m->seq, s.done, s.failed, s.cancelled, s.expired, s.skipped, m->feedback_msgs,
                 m->lost_total);
        out->write(out, line);
        if (m->lost_total > 0 || m->marshal_errors > 0) {
            char oom[48] = "";
            if (m->lost[PH_LOSS_OUT_OF_MEMORY] > 0)
                snprintf(oom, sizeof oom, ", out-of-memory %" PRIu64, m->lost[PH_LOSS_OUT_OF_MEMORY]);
            snprintf(line, sizeof line,
                     "chaos: lost cancelled %" PRIu64 ", expired %" PRIu64
                     ", worker-died %" PRIu64 ", spawn-failed %" PRIu64 ", orphaned %" PRIu64
                     "%s%s; marshal errors %" PRIu64 "\n",
                     m->lost[PH_LOSS_CANCELLED], m->lost[PH_LOSS_EXPIRED],
                     m->lost[PH_LOSS_WORKER_DIED], m->lost[PH_LOSS_SPAWN_FAILED],
                     m->lost[PH_LOSS_ORPHANED], oom,
                     m->lost[LOSS_BUCKETS - 1] ? ", other" : "",
                     m->marshal_errors);
            out->write(out, line);
        }
    }
    master_free(m);
}

static void set_clipped_name(const void *data, size_t len, const ph_name_sink *out) {
    sbuf b;
    sb_init(&b);
    const char *s = data != NULL ? data : "";
    size_t n = strnlen(s, len);
    sb_add_clipped(&b, s, n, 120);
    out->set_name(out, b.p);
    sb_free(&b);
}

static void master_name_of_task(void *master, ph_bytes task, const ph_name_sink *out) {
    (void)master;
    set_clipped_name(task.data, task.len, out);
}

static void master_name_of_request(void *master, ph_bytes request, const ph_name_sink *out) {
    (void)master;
    set_clipped_name(request.data, request.len, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Worker side                                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct chaos_worker {
    char *name;          /* owned */
    uint8_t *broadcast;  /* last broadcast, owned (NULL: none yet) */
    size_t broadcast_len;
    int has_broadcast;
    void *leaked;        /* chain of leaked blocks, kept reachable on purpose */
    int params_broken;   /* worker_init's parameters broke ABI 2 (get_extension): fail requests */
} chaos_worker;

/* CHAOS_LIVE_DIR: under a lock on DIR/lock, counts the live workers registered in DIR (a file
 * named after each one's pid; the dead ones' files are removed), registers this one, and keeps
 * the most ever live at once in DIR/max. Workers of several hosts may share DIR. */
static void record_live_worker(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0) return;
    struct flock whole;
    memset(&whole, 0, sizeof whole);
    whole.l_type = F_WRLCK;
    whole.l_whence = SEEK_SET;
    while (fcntl(lock, F_SETLKW, &whole) != 0 && errno == EINTR) {
    }
    unsigned long live = 1;
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (end == e->d_name || *end != '\0' || pid <= 0 || pid == (long)getpid()) continue;
            if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
                live++;
            } else {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    snprintf(path, sizeof path, "%s/%ld", dir, (long)getpid());
    int mine = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (mine >= 0) close(mine);
    snprintf(path, sizeof path, "%s/max", dir);
    unsigned long max = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%lu", &max) != 1) max = 0;
        fclose(f);
    }
    if (live > max && (f = fopen(path, "w")) != NULL) {
        fprintf(f, "%lu\n", live);
        fclose(f);
    }
    close(lock);
}

static void *worker_init(const ph_worker_params *params) {
    const char *live_dir = getenv("CHAOS_LIVE_DIR");
    if (live_dir != NULL && live_dir[0] != '\0') record_live_worker(live_dir);
    chaos_worker *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    const char *name = params != NULL && params->worker_name != NULL ? params->worker_name : "?";
    size_t n = strlen(name);
    w->name = malloc(n + 1);
    if (w->name != NULL) memcpy(w->name, name, n + 1);
    w->params_broken = params == NULL || params->get_extension == NULL ||
                       params->get_extension(params, "chaos.none/1") != NULL;
    return w;
}

static void worker_on_broadcast(void *worker, ph_bytes fb) {
    chaos_worker *w = worker;
    if (w == NULL) return;
    uint8_t *copy = malloc(fb.len + 1);
    if (copy == NULL) return;
    if (fb.len > 0 && fb.data != NULL) memcpy(copy, fb.data, fb.len);
    copy[fb.len] = 0;
    free(w->broadcast);
    w->broadcast = copy;
    w->broadcast_len = fb.len;
    w->has_broadcast = 1;
}

static void die_by_signal(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached */
}

static void sleep_forever(void) {
    for (;;) pause();
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Responds "pid=PID STATUS RESULT". */
static int reply(const ph_perform_context *ctx, const char *status, size_t status_len,
                 const char *result, size_t result_len) {
    sbuf b;
    sb_init(&b);
    sb_add(&b, "pid=", 4);
    sb_addu(&b, (uint64_t)getpid());
    sb_add(&b, " ", 1);
    sb_add(&b, status, status_len);
    sb_add(&b, " ", 1);
    sb_add(&b, result, result_len);
    int rc = 0;
    if (b.failed) {
        ctx->fail(ctx, "chaos: out of memory");
        rc = 1;
    } else {
        ctx->respond(ctx, b.p, b.len);
    }
    sb_free(&b);
    return rc;
}

static int replys(const ph_perform_context *ctx, const char *status, size_t status_len,
                  const char *result) {
    return reply(ctx, status, status_len, result, strlen(result));
}

static int fail_with(const ph_perform_context *ctx, const char *what, const char *data,
                     size_t len) {
    sbuf b;
    sb_init(&b);
    sb_adds(&b, what);
    sb_add_clipped(&b, data, len, 200);
    ctx->fail(ctx, b.failed ? what : b.p);
    sb_free(&b);
    return 1;
}

/* escape:PATH: a child that leaves the worker's process group and session (setsid, then a
   second fork so that it is nobody's child but init's or a subreaper's) writes its pid to PATH
   and sleeps until killed. The worker answers "escaped PID" once PATH is written. */
static int escape(const ph_perform_context *ctx, const char *status, size_t status_len,
                  const char *arg, size_t arg_len) {
    char path[PATH_MAX];
    if (arg_len == 0 || arg_len >= sizeof path) return fail_with(ctx, "chaos: bad escape path: ", arg, arg_len);
    memcpy(path, arg, arg_len);
    path[arg_len] = 0;
    int ready[2];
    if (pipe(ready) != 0) return fail_with(ctx, "chaos: escape: pipe failed", "", 0);
    pid_t child = fork();
    if (child < 0) {
        close(ready[0]);
        close(ready[1]);
        return fail_with(ctx, "chaos: escape: fork failed", "", 0);
    }
    if (child == 0) {
        close(ready[0]);
        setsid();
        pid_t grandchild = fork();
        if (grandchild != 0) _exit(grandchild < 0 ? 1 : 0);
        char text[32];
        int k = snprintf(text, sizeof text, "%d\n", (int)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, text, (size_t)k) != k) _exit(1);
            close(fd);
        }
        if (write(ready[1], text, (size_t)k) != k) _exit(1);
        close(ready[1]);
        for (;;) pause();
    }
    close(ready[1]);
    int wstatus;
    while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {}
    char text[32] = "";
    ssize_t got;
    while ((got = read(ready[0], text, sizeof text - 1)) < 0 && errno == EINTR) {}
    close(ready[0]);
    if (got <= 0) return fail_with(ctx, "chaos: escape: the child did not start", "", 0);
    text[got > 0 && text[got - 1] == '\n' ? got - 1 : got] = 0;
    sbuf b;
    sb_init(&b);
    sb_adds(&b, "escaped ");
    sb_adds(&b, text);
    int rc = reply(ctx, status, status_len, b.p, b.len);
    sb_free(&b);
    return rc;
}

/* grow:MB: allocates and touches MB MiB, one MiB per millisecond, then holds it until killed
   (the task never answers: only a memory limit, a time limit or a cancellation ends it). */
static void grow(size_t megabytes) {
    for (size_t i = 0; i < megabytes; i++) {
        char *block = malloc((size_t)1 << 20);
        if (block == NULL) break;
        memset(block, 0x5A, (size_t)1 << 20);
#if defined(__GNUC__) || defined(__clang__)
        __asm__ __volatile__("" : : "r"(block) : "memory"); /* keep the stores */
#endif
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    sleep_forever();
}

/* Allocates `megabytes` MiB in 1 MiB blocks, touching every page, and aborts when an allocation
 * fails (as a plugin's xmalloc would); frees them all and returns on success. */
static void allocate_or_abort(size_t megabytes) {
    void *chain = NULL;
    for (size_t i = 0; i < megabytes; i++) {
        char *block = malloc((size_t)1 << 20);
        if (block == NULL) {
            static const char message[] = "chaos: out of memory in alloc\n";
            ssize_t ignored = write(2, message, sizeof message - 1);
            (void)ignored;
            abort();
        }
        memset(block, 0x5A, (size_t)1 << 20);
        memcpy(block, &chain, sizeof chain);
        chain = block;
    }
    while (chain != NULL) {
        void *next;
        memcpy(&next, chain, sizeof next);
        free(chain);
        chain = next;
    }
}

static int worker_perform(void *worker, ph_bytes request, const ph_perform_context *ctx) {
    chaos_worker *w = worker;
    const char *s = request.data != NULL ? (const char *)request.data : "";
    size_t n = request.len;
    const char *bar = n > 0 ? memchr(s, '|', n) : NULL;
    if ((w != NULL && w->params_broken) || ctx->get_extension == NULL)
        return fail_with(ctx, "chaos: the host breaks ABI 2 (get_extension)", "", 0);
    if (bar == NULL) return fail_with(ctx, "chaos: malformed request: ", s, n);
    const char *status = s;
    size_t status_len = (size_t)(bar - s);
    if (!view_is(status, status_len, "F") && !(status_len >= 2 && memcmp(status, "O:", 2) == 0))
        return fail_with(ctx, "chaos: malformed request: ", s, n);
    action_view a;
    split_action(bar + 1, n - status_len - 1, &a);

    char num[64];
    uint64_t v;
    switch (a.id) {
    case A_ECHO:
        if (a.has_arg) return reply(ctx, status, status_len, a.arg, a.arg_len);
        return reply(ctx, status, status_len, "ok", 2);

    case A_BLOB: {
        /* Opens the referenced blob and answers with its size and FNV-1a 64 hash. */
        const ph_worker_blobs *blobs = ctx->get_extension(ctx, PH_EXT_BLOBS);
        if (blobs == NULL) return fail_with(ctx, "chaos: blob: ", "no blob support", 15);
        uint8_t reference[PH_BLOB_REFERENCE_MAX];
        size_t len = a.arg_len / 2;
        if (len > sizeof reference) return fail_with(ctx, "chaos: blob: bad reference", "", 0);
        for (size_t i = 0; i < len; i++) {
            unsigned hi = (unsigned)(a.arg[2 * i] <= '9' ? a.arg[2 * i] - '0' : a.arg[2 * i] - 'a' + 10);
            unsigned lo = (unsigned)(a.arg[2 * i + 1] <= '9' ? a.arg[2 * i + 1] - '0' : a.arg[2 * i + 1] - 'a' + 10);
            reference[i] = (uint8_t)(hi << 4 | lo);
        }
        char error[256] = "";
        int fd = blobs->open(ctx, reference, len, error, sizeof error);
        if (fd < 0) return fail_with(ctx, "chaos: blob: ", error, strlen(error));
        uint64_t hash = 14695981039346656037ull, size = 0;
        unsigned char buffer[65536];
        ssize_t got;
        while ((got = read(fd, buffer, sizeof buffer)) > 0) {
            for (ssize_t i = 0; i < got; i++) hash = (hash ^ buffer[i]) * 1099511628211ull;
            size += (uint64_t)got;
        }
        close(fd);
        char text[96];
        snprintf(text, sizeof text, "size=%" PRIu64 " fnv=%016" PRIx64, size, hash);
        return replys(ctx, status, status_len, text);
    }

    case A_SEGV:
    case A_STATE_DIE:
    case A_DEATH_LOCAL:
        die_by_signal(SIGSEGV);
        return 1;

    case A_ABORT:
        abort();

    case A_EXIT:
        if (parse_u64(a.arg, a.arg_len, 255, &v) != 0)
            return fail_with(ctx, "chaos: bad exit code: ", a.arg, a.arg_len);
        _exit((int)v);

    case A_NOISY_DEATH:
        fputs("chaos: last words 1\nchaos: last words 2\nchaos: last words 3\n", stderr);
        fflush(stderr);
        abort();

    case A_HANG:
        sleep_forever();
        return 1;

    case A_SLEEP: {
        if (parse_u64(a.arg, a.arg_len, UINT32_MAX, &v) != 0)
            return fail_with(ctx, "chaos: bad sleep time: ", a.arg, a.arg_len);
        uint64_t deadline = monotonic_ns() + v * 1000000u;
        for (;;) {
            uint64_t now = monotonic_ns();
            if (now >= deadline) break;
            if (ctx->should_stop != NULL && ctx->should_stop(ctx))
                return replys(ctx, status, status_len, "stopped");
            uint64_t left = deadline - now;
            struct timespec ts = {0, (long)(left < 1000000u ? left : 1000000u)};
            nanosleep(&ts, NULL);
        }
        snprintf(num, sizeof num, "slept %" PRIu64, v);
        return replys(ctx, status, status_len, num);
    }

    case A_GARBAGE: {
        const char *env = getenv("PLUGIN_HOST_PROTOCOL_FD");
        if (env == NULL || parse_u64(env, strlen(env), INT_MAX, &v) != 0)
            return replys(ctx, status, status_len, "no protocol fd");
        unsigned char junk[64];
        memset(junk, 0xFF, sizeof junk);
        size_t off = 0;
        while (off < sizeof junk) {
            ssize_t k = write((int)v, junk + off, sizeof junk - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            off += (size_t)k;
        }
        sleep_forever();
        return 1;
    }

    case A_STDOUT:
        if (a.arg_len > 0) fwrite(a.arg, 1, a.arg_len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return replys(ctx, status, status_len, "printed");

    case A_PRINTF:
        /* As a plugin author would: no fflush. The worker must not lose it. */
        printf("%.*s\n", (int)a.arg_len, a.arg_len > 0 ? a.arg : "");
        return replys(ctx, status, status_len, "printed");

    case A_SPEW: {
        /* KB KiB of stderr in numbered 64-byte lines, then one line on stdout; then the answer. */
        if (parse_u64(a.arg, a.arg_len, 1048576, &v) != 0)
            return fail_with(ctx, "chaos: bad spew size: ", a.arg, a.arg_len);
        for (uint64_t i = 0; i < v * 16; i++) fprintf(stderr, "chaos: spew line %010" PRIu64 " ...................................\n", i);
        fflush(stderr);
        printf("chaos: spewed %" PRIu64 " KiB\n", v);
        snprintf(num, sizeof num, "spewed %" PRIu64, v);
        return replys(ctx, status, status_len, num);
    }

    case A_LEAK: {
        if (parse_u64(a.arg, a.arg_len, 1048576, &v) != 0 || v > SIZE_MAX >> 20)
            return fail_with(ctx, "chaos: bad leak size: ", a.arg, a.arg_len);
        size_t size = (size_t)v << 20;
        if (size < sizeof(void *)) size = sizeof(void *);
        void *p = malloc(size);
        if (p == NULL) {
            snprintf(num, sizeof num, "cannot leak %" PRIu64 " MiB", v);
            return replys(ctx, status, status_len, num);
        }
        memset(p, 0x5A, size); /* touch every page */
        if (w != NULL) {
            memcpy(p, &w->leaked, sizeof(void *));
            w->leaked = p;
        }
#if defined(__GNUC__) || defined(__clang__)
        __asm__ __volatile__("" : : "r"(p) : "memory"); /* keep the stores */
#endif
        snprintf(num, sizeof num, "leaked %" PRIu64, v);
        return replys(ctx, status, status_len, num);
    }

    case A_FEEDBACK: {
        if (parse_u64(a.arg, a.arg_len, UINT32_MAX, &v) != 0)
            return fail_with(ctx, "chaos: bad feedback count: ", a.arg, a.arg_len);
        for (uint64_t i = 1; i <= v; i++) {
            int k = snprintf(num, sizeof num, "fb%" PRIu64, i);
            ctx->feedback(ctx, num, (size_t)k);
        }
        sbuf b;
        sb_init(&b);
        sb_adds(&b, "sent ");
        sb_addu(&b, v);
        sb_adds(&b, " by ");
        sb_adds(&b, w != NULL && w->name != NULL ? w->name : "?");
        int rc = reply(ctx, status, status_len, b.p, b.len);
        sb_free(&b);
        return rc;
    }

    case A_FOLLOWUP:
    case A_FOLLOWUP_DIE: {
        sbuf b;
        sb_init(&b);
        sb_adds(&b, "failed-at ");
        sb_add(&b, a.arg, a.arg_len);
        int rc = reply(ctx, status, status_len, b.p, b.len);
        sb_free(&b);
        return rc;
    }

    case A_STATE: {
        const char *k, *p;
        size_t klen, plen;
        if (split_state_arg(a.arg, a.arg_len, &k, &klen, &p, &plen) != 0)
            return fail_with(ctx, "chaos: bad state argument: ", a.arg, a.arg_len);
        sbuf b;
        sb_init(&b);
        sb_adds(&b, "state ");
        sb_add(&b, k, klen);
        int rc = reply(ctx, status, status_len, b.p, b.len);
        sb_free(&b);
        return rc;
    }

    case A_CRASH_ONCE:
    case A_KILL_MASTER: {
        sbuf path;
        sb_init(&path);
        sb_add(&path, a.arg, a.arg_len);
        if (path.failed || path.len == 0) {
            sb_free(&path);
            return fail_with(ctx, "chaos: bad crash-once path: ", a.arg, a.arg_len);
        }
        int fd = open(path.p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            close(fd);
            if (a.id == A_KILL_MASTER) {
                kill(fixture_master_pid(), SIGKILL); /* the worker then dies with its master */
                sleep_forever();
            }
            die_by_signal(SIGSEGV);
        }
        int rc;
        if (errno == EEXIST) {
            rc = replys(ctx, status, status_len, "survived");
        } else {
            sbuf b;
            sb_init(&b);
            sb_adds(&b, "cannot create ");
            sb_add(&b, path.p, path.len);
            sb_adds(&b, ": ");
            sb_adds(&b, strerror(errno));
            rc = reply(ctx, status, status_len, b.p, b.len);
            sb_free(&b);
        }
        sb_free(&path);
        return rc;
    }

    case A_BADRESP:
        ctx->fail(ctx, "chaos: cannot decode request");
        return 1;

    case A_TASKFAIL: {
        const ph_worker_task_failure *tf = ctx->get_extension(ctx, PH_EXT_TASK_FAILURE);
        if (tf == NULL) return fail_with(ctx, "chaos: no task-failure extension: ", a.text, a.text_len);
        sbuf msg;
        sb_init(&msg);
        if (a.has_arg)
            sb_add(&msg, a.arg, a.arg_len);
        else
            sb_adds(&msg, "chaos: task failed");
        tf->fail_task(ctx, msg.p);
        sb_free(&msg);
        return 0;
    }

    case A_ESCAPE:
        return escape(ctx, status, status_len, a.arg, a.arg_len);

    case A_WAIT: {
        /* Reads PATH (a FIFO) to its end: the task runs until the test opens and closes the
           FIFO's write end. */
        sbuf path;
        sb_init(&path);
        sb_add(&path, a.arg, a.arg_len);
        int fd = path.failed ? -1 : open(path.p, O_RDONLY | O_CLOEXEC);
        sb_free(&path);
        if (fd < 0) return fail_with(ctx, "chaos: wait: cannot open ", a.arg, a.arg_len);
        char buffer[256];
        ssize_t got;
        do {
            got = read(fd, buffer, sizeof buffer);
        } while (got > 0 || (got < 0 && errno == EINTR));
        close(fd);
        return replys(ctx, status, status_len, "waited");
    }

    case A_GROW:
        if (parse_u64(a.arg, a.arg_len, 1048576, &v) != 0 || v == 0 || v > SIZE_MAX >> 20)
            return fail_with(ctx, "chaos: bad grow size: ", a.arg, a.arg_len);
        grow((size_t)v);
        return 1;

    case A_ALLOC:
        if (parse_u64(a.arg, a.arg_len, 1048576, &v) != 0 || v == 0 || v > SIZE_MAX >> 20)
            return fail_with(ctx, "chaos: bad alloc size: ", a.arg, a.arg_len);
        allocate_or_abort((size_t)v);
        snprintf(num, sizeof num, "allocated %" PRIu64, v);
        return replys(ctx, status, status_len, num);

    case A_LASTBROADCAST:
        if (w != NULL && w->has_broadcast)
            return reply(ctx, status, status_len, (const char *)w->broadcast, w->broadcast_len);
        return replys(ctx, status, status_len, "none");

    case A_STAY:
    case A_FAIL:
    case A_BROADCAST:
    case A_OBSOLETE:
    case A_MARSHAL:
    case A_MARSHAL_LOCAL:
    case A_MASTER_SEGV:
    case A_MASTER_SLEEP:
    case A_LOG:
        return replys(ctx, status, status_len, "ok");

    case A_UNKNOWN:
        break;
    }
    return fail_with(ctx, "chaos: unknown action: ", a.text, a.text_len);
}

/* ------------------------------------------------------------------------------------------ */
/* Journal ("ph.journal/1")                                                                    */
/* ------------------------------------------------------------------------------------------ */

static int journal_replayable(void *master, const ph_error_sink *why) {
    const chaos_master *m = master;
    if (!m->not_replayable) return 1;
    why->set_error(why, "chaos --not-replayable says so");
    return 0;
}

/* The kind's input identity: $CHAOS_JOURNAL_IDENTITY (none when unset), so tests can change the
   "input" without changing the arguments. */
static void journal_identity(void *master, const ph_request_sink *out) {
    (void)master;
    const char *identity = getenv("CHAOS_JOURNAL_IDENTITY");
    if (identity != NULL) out->set_request(out, identity, strlen(identity));
}

static const ph_plugin_journal CHAOS_JOURNAL = {journal_replayable, journal_identity};

static const void *chaos_get_extension(const char *id) {
    if (id != NULL && strcmp(id, PH_EXT_JOURNAL) == 0) return &CHAOS_JOURNAL;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Descriptor                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static const char CHAOS_DESCRIPTION[] =
    "Fault injection for PluginHost tests: echo, crash, hang, leak, feedback, follow-ups.";

static const char CHAOS_USAGE[] =
    "chaos [--file PATH]... [--repeat N] [--pull] [--] TASK...\n"
    "  --file PATH   read TASKs from PATH, one per line ('#' comments, blank lines skipped)\n"
    "  --repeat N    queue the whole list N times (default 1)\n"
    "  --pull        hand tasks out lazily through pull() instead of queueing them at once\n"
    "  --not-replayable  say through \"ph.journal/1\" that runs cannot be replayed (--journal refused)\n"
    "TASK := [!PRIO ][@TIMEOUT_MS ]ACTION[:ARG]   (PRIO int32, lower runs first)\n"
    "ACTION:\n"
    "  echo[:TEXT]  sleep:MS  feedback:N  segv  abort  exit:N  noisy-death  hang  garbage\n"
    "  stdout[:TEXT]  printf[:TEXT]  spew:KB  leak:MB  followup:K  followup-die:K  state:K@PID  state-die:K@PID\n"
    "  crash-once:PATH  kill-master:PATH  badresp  death-local  stay:COMP  fail[:MSG]  broadcast[:TEXT]\n"
    "  lastbroadcast  obsolete  marshal  marshal-local  taskfail[:MSG]  wait:PATH\n"
    "Responses read 'pid=PID F RESULT' (fresh worker) or 'pid=PID O:COMP RESULT' (old).\n"
    "See Tests/Fixtures/ChaosPlugin/include/chaos_plugin.h for the details.\n";

CHAOS_EXPORT int32_t plugin_host_entry(uint32_t host_abi_major, uint32_t host_abi_minor,
                                       ph_plugin_descriptor *out) {
    (void)host_abi_minor; /* any 2.x host: the structs are frozen, extensions are looked up */
    if (out == NULL || host_abi_major != PH_ABI_VERSION_MAJOR) return 1;
    memset(out, 0, sizeof *out);
    out->abi_major = PH_ABI_VERSION_MAJOR;
    out->abi_minor = PH_ABI_VERSION_MINOR;
    out->name = CHAOS_PLUGIN_NAME;
    out->version = CHAOS_PLUGIN_VERSION;
    out->description = CHAOS_DESCRIPTION;
    out->usage = CHAOS_USAGE;
    out->default_policy = PH_POLICY_ONE_SHOT;

    out->master_open = master_open;
    out->pull = master_pull;
    out->task_match = master_task_match;
    out->request_of_task = master_request_of_task;
    out->use_response = master_use_response;
    out->on_marshal_error = master_on_marshal_error;
    out->on_task_lost = master_on_task_lost;
    out->forward_feedback = master_forward_feedback;
    out->finish = master_finish;
    out->name_of_task = master_name_of_task;
    out->name_of_request = master_name_of_request;

    out->worker_init = worker_init;
    out->perform = worker_perform;
    out->on_broadcast = worker_on_broadcast;
    out->get_extension = chaos_get_extension;
    return 0;
}

/* Marks this library as a test fixture: `plugin-host list` leaves it out of a build directory. */
CHAOS_EXPORT const int plugin_host_test_fixture = 1;
