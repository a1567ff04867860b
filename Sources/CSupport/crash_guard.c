/* crash_guard.c — a crash inside a plugin's master-side callback ends the host with one line.
 *
 * The host marks each call into a plugin's master side (csupport_crash_scope_enter / leave, a
 * thread-local plugin name and callback name). A fatal signal raised while a scope is open on
 * the crashing thread writes "plugin-host: plugin 'NAME' crashed in CALLBACK (SIGSEGV)" with one
 * write(2), asks the kernel to kill the processes of every registered worker cgroup, and ends
 * the process with _exit(128 + signal): the status a shell shows for a death by that signal,
 * without a core dump of the host or the Swift runtime's multi-page backtrace. A fatal signal
 * outside any scope is the host's own: the previous handler (the Swift runtime's backtracer,
 * or the default action) gets it, as before.
 *
 * The handler runs on an alternate signal stack, set up per thread on its first scope, so a
 * plugin's stack overflow is reported too. Everything the handler touches is async-signal-safe.
 */
#define _GNU_SOURCE
#include "csupport.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARDED_SIGNALS 7
static const int guarded[GUARDED_SIGNALS] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
static struct sigaction previous[GUARDED_SIGNALS];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static pthread_key_t altstack_key;

static __thread const char *scope_plugin __attribute__((tls_model("initial-exec")));
static __thread const char *scope_callback __attribute__((tls_model("initial-exec")));
static __thread int has_altstack __attribute__((tls_model("initial-exec")));

/* Descriptors of cgroup.kill files to write "1" to before the host dies (see
   csupport_crash_kill_register). -1: free entry. */
#define KILL_FILES 64
static volatile int kill_files[KILL_FILES] = {
    [0 ... KILL_FILES - 1] = -1,
};

/* make's jobserver (see csupport_crash_jobserver_hold): its write descriptor and the tokens the
   host holds, written back before the host dies. */
static volatile int jobserver_fd = -1;
static volatile int jobserver_tokens = 0;

static const char *signal_text(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: return "a fatal signal";
    }
}

static size_t append(char *buffer, size_t used, size_t capacity, const char *text) {
    while (*text != 0 && used + 1 < capacity) buffer[used++] = *text++;
    return used;
}

static void crash_handler(int sig, siginfo_t *info, void *context) {
    const char *plugin = scope_plugin, *callback = scope_callback;
    if (callback == NULL) {
        /* Not in a plugin: the host's own crash goes where it went before. */
        for (int i = 0; i < GUARDED_SIGNALS; i++) {
            if (guarded[i] != sig) continue;
            const struct sigaction *old = &previous[i];
            if ((old->sa_flags & SA_SIGINFO) != 0 && old->sa_sigaction != NULL) {
                old->sa_sigaction(sig, info, context);
                return;
            }
            if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler != NULL) {
                old->sa_handler(sig);
                return;
            }
        }
        /* The default action: restore it and raise again (delivered once this handler returns,
           or at once for a fault, which then recurs). */
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = SIG_DFL;
        sigemptyset(&action.sa_mask);
        sigaction(sig, &action, NULL);
        raise(sig);
        return;
    }
    char line[512];
    size_t used = 0;
    used = append(line, used, sizeof line, "plugin-host: plugin '");
    used = append(line, used, sizeof line, plugin != NULL ? plugin : "?");
    used = append(line, used, sizeof line, "' crashed in ");
    used = append(line, used, sizeof line, callback);
    used = append(line, used, sizeof line, " (");
    used = append(line, used, sizeof line, signal_text(sig));
    used = append(line, used, sizeof line, ")\n");
    ssize_t written = write(2, line, used);
    (void)written;
    for (int i = 0; i < KILL_FILES; i++) {
        int fd = kill_files[i];
        if (fd >= 0) {
            written = write(fd, "1", 1);
            (void)written;
        }
    }
    for (int held = jobserver_tokens; held > 0 && jobserver_fd >= 0; held--) {
        written = write(jobserver_fd, "+", 1);
        (void)written;
    }
    _exit(128 + sig);
}

static void free_altstack(void *memory) {
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, NULL);
    free(memory);
}

static void install(void) {
    pthread_key_create(&altstack_key, free_altstack);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = crash_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < GUARDED_SIGNALS; i++) sigaction(guarded[i], &action, &previous[i]);
}

void csupport_crash_guard_install(void) { pthread_once(&install_once, install); }

/* An alternate signal stack for this thread, unless it has one already (freed at thread exit). */
static void ensure_altstack(void) {
    has_altstack = 1;
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) return;
    size_t size = 64 * 1024;
    void *memory = malloc(size);
    if (memory == NULL) return;
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_sp = memory;
    stack.ss_size = size;
    if (sigaltstack(&stack, NULL) != 0) {
        free(memory);
        return;
    }
    pthread_setspecific(altstack_key, memory);
}

const char *csupport_crash_scope_enter(const char *plugin, const char *callback) {
    if (!has_altstack) ensure_altstack();
    const char *saved = scope_callback;
    scope_plugin = plugin;
    scope_callback = callback;
    return saved;
}

void csupport_crash_scope_leave(const char *saved) { scope_callback = saved; }

int csupport_crash_kill_register(int fd) {
    for (int i = 0; i < KILL_FILES; i++) {
        if (__sync_bool_compare_and_swap(&kill_files[i], -1, fd)) return i;
    }
    return -1;
}

void csupport_crash_jobserver_hold(int fd, int tokens) {
    jobserver_tokens = 0;
    jobserver_fd = fd;
    jobserver_tokens = tokens;
}

void csupport_crash_kill_unregister(int slot) {
    if (slot >= 0 && slot < KILL_FILES) kill_files[slot] = -1;
}
