/* address_space_limit.c — a worker's address-space limit (RLIMIT_AS) and its signature.
 *
 * Under RLIMIT_AS an allocation past the limit does not kill the process: malloc returns NULL
 * (errno ENOMEM) and the plugin then crashes on its own terms (a NULL dereference, abort() from
 * an xmalloc, the Swift runtime's "could not allocate memory" trap, a C++ bad_alloc ending in
 * std::terminate). The signature the host relies on: a fatal signal raised on a thread whose
 * errno is still ENOMEM. The handler then writes the caller's marker line to stderr with one
 * write(2) and dies by the same signal, so the master sees the signal as before and the marker
 * among the worker's last stderr lines. Everything the handler touches is async-signal-safe.
 */
#define _GNU_SOURCE
#include "csupport.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char marker[256];
static size_t marker_length;
static char alternate_stack[64 * 1024];

static void on_fatal_signal(int number) {
    if (errno == ENOMEM && marker_length > 0) {
        ssize_t ignored = write(2, marker, marker_length);
        (void)ignored;
    }
    signal(number, SIG_DFL);
    raise(number);
}

int csupport_limit_address_space(unsigned long long bytes, const char *line) {
    struct rlimit limit = {(rlim_t)bytes, (rlim_t)bytes};
    if (setrlimit(RLIMIT_AS, &limit) != 0) return -1;
    size_t length = strlen(line);
    if (length > sizeof marker - 2) length = sizeof marker - 2;
    memcpy(marker, line, length);
    marker[length] = '\n';
    marker_length = length + 1;
    stack_t stack = {.ss_sp = alternate_stack, .ss_size = sizeof alternate_stack, .ss_flags = 0};
    sigaltstack(&stack, NULL);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_fatal_signal;
    action.sa_flags = SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGTRAP, SIGFPE};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) sigaction(fatal[i], &action, NULL);
    return 0;
}
