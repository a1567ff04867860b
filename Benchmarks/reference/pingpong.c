/*
 * pingpong.c - reference measurements for PluginHost's benchmark.
 *
 * A minimal C master with N worker processes connected by pipes, running a
 * trivial workload: the request is a 4-byte length prefix plus an 8-byte
 * payload, the response is the same shape with the payload transformed.
 * One request is in flight per worker at any time.
 *
 * Modes (N workers/lanes, M round trips or jobs in total):
 *   pingpong [N] [M]            one master thread per worker, blocking
 *                               write/read (default N=2, M=400000)
 *                               -> "c-thread-per-worker workers=N round_trips=M seconds=S rate=R"
 *   pingpong --poll [N] [M]     one master thread, one poll() loop over all
 *                               workers (default N=2, M=400000)
 *                               -> "c-poll-loop workers=N round_trips=M seconds=S rate=R"
 *   pingpong --oneshot [N] [M]  N lanes; each lane spawns a fresh worker,
 *                               sends one request, reads the response,
 *                               kills and reaps it, repeats (default N=2,
 *                               M=2000 jobs in total)
 *                               -> "c-oneshot workers=N jobs=M seconds=S rate=R first_response_ms=MEDIAN"
 *   pingpong --worker           internal: worker loop on stdin/stdout
 *
 * Workers are posix_spawn'ed copies of this executable (/proc/self/exe).
 * All master-side pipe ends are close-on-exec (pipe2(O_CLOEXEC)); the child's
 * ends are dup2'ed onto fds 0 and 1. SIGPIPE is ignored in the master and
 * reset to default in the workers.
 *
 * Build: cc -O2 -pthread -Wall -Wextra -o pingpong pingpong.c
 * Exit status is non-zero on any error or wrong response.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PAYLOAD_LEN 8u
#define MSG_LEN (4u + PAYLOAD_LEN)
#define MAX_WORKERS 256

static char self_exe[PATH_MAX];

/* ------------------------------------------------------------------ util */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
    fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Returns 0 on success, -1 on error, 1 on clean EOF before any byte. */
static int read_full(int fd, void *buf, size_t len) {
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0) {
            return got == 0 ? 1 : -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
    const unsigned char *p = buf;
    size_t put = 0;
    while (put < len) {
        ssize_t n = write(fd, p + put, len - put);
        if (n > 0) {
            put += (size_t)n;
        } else if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

static uint64_t transform(uint64_t x) { return (x * 2u + 1u) ^ 0x5a5a5a5a5a5a5a5aull; }

static void encode(unsigned char msg[MSG_LEN], uint64_t payload) {
    uint32_t len = PAYLOAD_LEN;
    memcpy(msg, &len, 4);
    memcpy(msg + 4, &payload, PAYLOAD_LEN);
}

/* Returns 0 and stores the payload if the message is well formed. */
static int decode(const unsigned char msg[MSG_LEN], uint64_t *payload) {
    uint32_t len;
    memcpy(&len, msg, 4);
    if (len != PAYLOAD_LEN) return -1;
    memcpy(payload, msg + 4, PAYLOAD_LEN);
    return 0;
}

/* ---------------------------------------------------------------- worker */

static int worker_main(void) {
    unsigned char msg[MSG_LEN];
    for (;;) {
        int r = read_full(0, msg, MSG_LEN);
        if (r == 1) return 0;            /* master closed our stdin */
        if (r < 0) return 2;
        uint64_t v;
        if (decode(msg, &v) != 0) return 3;
        encode(msg, transform(v));
        if (write_full(1, msg, MSG_LEN) != 0) return 4;
    }
}

/* ---------------------------------------------------------------- master */

typedef struct {
    pid_t pid;
    int wfd;  /* master -> worker (worker's stdin) */
    int rfd;  /* worker -> master (worker's stdout) */
} worker_t;

/* Spawns one worker. Returns 0 on success, -1 (errno set) on failure. */
static int spawn_worker(worker_t *w) {
    int req[2], resp[2];
    if (pipe2(req, O_CLOEXEC) != 0) return -1;
    if (pipe2(resp, O_CLOEXEC) != 0) {
        int e = errno; close(req[0]); close(req[1]); errno = e;
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    /* dup2 onto 0/1 clears close-on-exec on the child's copies. The pipe
     * fds are never 0/1 here because the master's stdin/stdout are open. */
    posix_spawn_file_actions_adddup2(&fa, req[0], 0);
    posix_spawn_file_actions_adddup2(&fa, resp[1], 1);
    posix_spawnattr_init(&attr);
    sigset_t def, mask;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigemptyset(&mask);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char *argv[] = { self_exe, (char *)"--worker", NULL };
    int rc = posix_spawn(&w->pid, self_exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(req[0]);
    close(resp[1]);
    if (rc != 0) {
        close(req[1]);
        close(resp[0]);
        errno = rc;
        return -1;
    }
    w->wfd = req[1];
    w->rfd = resp[0];
    return 0;
}

/* One synchronous round trip; returns 0 if the answer is right. */
static int round_trip(const worker_t *w, uint64_t v) {
    unsigned char msg[MSG_LEN];
    encode(msg, v);
    if (write_full(w->wfd, msg, MSG_LEN) != 0) return -1;
    if (read_full(w->rfd, msg, MSG_LEN) != 0) return -1;
    uint64_t r;
    if (decode(msg, &r) != 0 || r != transform(v)) return -1;
    return 0;
}

/* Closes the worker's stdin and reaps it; returns 0 if it exited with 0. */
static int stop_worker(worker_t *w) {
    close(w->wfd);
    int status;
    pid_t p;
    do p = waitpid(w->pid, &status, 0); while (p < 0 && errno == EINTR);
    close(w->rfd);
    if (p < 0) return -1;
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
}

static void spawn_pool(worker_t *ws, int n) {
    for (int i = 0; i < n; i++) {
        if (spawn_worker(&ws[i]) != 0) die("posix_spawn");
        /* warm-up: make sure the worker is running before timing */
        if (round_trip(&ws[i], 12345u) != 0) {
            fprintf(stderr, "pingpong: warm-up round trip failed\n");
            exit(1);
        }
    }
}

static int stop_pool(worker_t *ws, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (stop_worker(&ws[i]) != 0) bad++;
    if (bad) fprintf(stderr, "pingpong: %d worker(s) did not exit cleanly\n", bad);
    return bad;
}

/* ----------------------------------------------- mode: thread per worker */

typedef struct {
    worker_t *w;
    long count;
    uint64_t base;
    long errors;
} lane_t;

static void *thread_lane(void *arg) {
    lane_t *l = arg;
    for (long i = 0; i < l->count; i++) {
        if (round_trip(l->w, l->base + (uint64_t)i) != 0) {
            l->errors++;
            break;
        }
    }
    return NULL;
}

static int run_thread_per_worker(int n, long m) {
    worker_t ws[MAX_WORKERS];
    lane_t lanes[MAX_WORKERS];
    pthread_t th[MAX_WORKERS];
    spawn_pool(ws, n);
    for (int i = 0; i < n; i++) {
        lanes[i].w = &ws[i];
        lanes[i].count = m / n + (i < m % n ? 1 : 0);
        lanes[i].base = (uint64_t)i << 40;
        lanes[i].errors = 0;
    }
    double t0 = now_seconds();
    for (int i = 0; i < n; i++)
        if ((errno = pthread_create(&th[i], NULL, thread_lane, &lanes[i])) != 0) die("pthread_create");
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    double dt = now_seconds() - t0;
    long errors = 0;
    for (int i = 0; i < n; i++) errors += lanes[i].errors;
    int bad = stop_pool(ws, n);
    if (errors) {
        fprintf(stderr, "pingpong: %ld lane(s) failed\n", errors);
        return 1;
    }
    printf("c-thread-per-worker workers=%d round_trips=%ld seconds=%.3f rate=%.0f\n",
           n, m, dt, (double)m / dt);
    return bad ? 1 : 0;
}

/* ------------------------------------------------------ mode: poll loop */

static int run_poll_loop(int n, long m) {
    worker_t ws[MAX_WORKERS];
    struct pollfd pfd[MAX_WORKERS];
    uint64_t expect[MAX_WORKERS];
    unsigned char msg[MSG_LEN];
    spawn_pool(ws, n);
    for (int i = 0; i < n; i++) {
        pfd[i].fd = ws[i].rfd;
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }
    long sent = 0, done = 0;
    int failed = 0;
    double t0 = now_seconds();
    /* prime: one request in flight per worker */
    for (int i = 0; i < n && sent < m; i++) {
        encode(msg, (uint64_t)sent);
        expect[i] = transform((uint64_t)sent);
        if (write_full(ws[i].wfd, msg, MSG_LEN) != 0) { failed = 1; break; }
        sent++;
    }
    while (!failed && done < m) {
        int r = poll(pfd, (nfds_t)n, -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            failed = 1;
            break;
        }
        for (int i = 0; i < n && r > 0; i++) {
            if (!pfd[i].revents) continue;
            r--;
            /* responses are smaller than PIPE_BUF and written in one write,
             * so a readable pipe holds the whole message */
            uint64_t v;
            if (read_full(ws[i].rfd, msg, MSG_LEN) != 0 || decode(msg, &v) != 0 || v != expect[i]) {
                failed = 1;
                break;
            }
            done++;
            if (sent < m) {
                encode(msg, (uint64_t)sent);
                expect[i] = transform((uint64_t)sent);
                if (write_full(ws[i].wfd, msg, MSG_LEN) != 0) { failed = 1; break; }
                sent++;
            } else {
                pfd[i].fd = -1; /* this worker is idle from now on */
            }
        }
    }
    double dt = now_seconds() - t0;
    int bad = stop_pool(ws, n);
    if (failed) {
        fprintf(stderr, "pingpong: poll loop failed after %ld round trips\n", done);
        return 1;
    }
    printf("c-poll-loop workers=%d round_trips=%ld seconds=%.3f rate=%.0f\n",
           n, m, dt, (double)m / dt);
    return bad ? 1 : 0;
}

/* -------------------------------------------------------- mode: one-shot */

typedef struct {
    long count;
    uint64_t base;
    double *first_ms; /* count entries */
    long errors;
} oneshot_lane_t;

static void *oneshot_lane(void *arg) {
    oneshot_lane_t *l = arg;
    for (long i = 0; i < l->count; i++) {
        worker_t w;
        double t0 = now_seconds();
        if (spawn_worker(&w) != 0) { l->errors++; break; }
        int ok = round_trip(&w, l->base + (uint64_t)i) == 0;
        double t1 = now_seconds();
        kill(w.pid, SIGKILL);
        close(w.wfd);
        close(w.rfd);
        int status;
        pid_t p;
        do p = waitpid(w.pid, &status, 0); while (p < 0 && errno == EINTR);
        if (p < 0) ok = 0;
        if (!ok) { l->errors++; break; }
        l->first_ms[i] = (t1 - t0) * 1e3;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run_oneshot(int n, long m) {
    oneshot_lane_t lanes[MAX_WORKERS];
    pthread_t th[MAX_WORKERS];
    double *all = calloc((size_t)m, sizeof(double));
    if (!all) die("calloc");
    long off = 0;
    for (int i = 0; i < n; i++) {
        lanes[i].count = m / n + (i < m % n ? 1 : 0);
        lanes[i].base = (uint64_t)i << 40;
        lanes[i].first_ms = all + off;
        lanes[i].errors = 0;
        off += lanes[i].count;
    }
    double t0 = now_seconds();
    for (int i = 0; i < n; i++)
        if ((errno = pthread_create(&th[i], NULL, oneshot_lane, &lanes[i])) != 0) die("pthread_create");
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    double dt = now_seconds() - t0;
    long errors = 0;
    for (int i = 0; i < n; i++) errors += lanes[i].errors;
    if (errors) {
        fprintf(stderr, "pingpong: %ld one-shot lane(s) failed\n", errors);
        free(all);
        return 1;
    }
    qsort(all, (size_t)m, sizeof(double), cmp_double);
    double median = (m % 2) ? all[m / 2] : (all[m / 2 - 1] + all[m / 2]) / 2.0;
    printf("c-oneshot workers=%d jobs=%ld seconds=%.3f rate=%.0f first_response_ms=%.3f\n",
           n, m, dt, (double)m / dt, median);
    free(all);
    return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(void) {
    fprintf(stderr,
            "usage: pingpong [--poll|--oneshot] [WORKERS [COUNT]]\n"
            "  default: thread per worker, WORKERS=2, COUNT=400000 round trips\n"
            "  --poll:    one poll() loop, WORKERS=2, COUNT=400000 round trips\n"
            "  --oneshot: fresh worker per job, WORKERS=2 lanes, COUNT=2000 jobs\n");
    exit(2);
}

static long parse_positive(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v <= 0) usage();
    return v;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--worker") == 0) return worker_main();

    enum { THREADS, POLL, ONESHOT } mode = THREADS;
    int argi = 1;
    if (argi < argc && strcmp(argv[argi], "--poll") == 0) { mode = POLL; argi++; }
    else if (argi < argc && strcmp(argv[argi], "--oneshot") == 0) { mode = ONESHOT; argi++; }
    else if (argi < argc && argv[argi][0] == '-') usage();
    if (argc - argi > 2) usage();
    long n = 2;
    long m = mode == ONESHOT ? 2000 : 400000;
    if (argi < argc) n = parse_positive(argv[argi++]);
    if (argi < argc) m = parse_positive(argv[argi++]);
    if (n > MAX_WORKERS || m < n) usage();

    ssize_t len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (len < 0) die("readlink /proc/self/exe");
    self_exe[len] = '\0';
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    switch (mode) {
    case THREADS: return run_thread_per_worker((int)n, m);
    case POLL:    return run_poll_loop((int)n, m);
    case ONESHOT: return run_oneshot((int)n, m);
    }
    return 1;
}
